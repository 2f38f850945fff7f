package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookflow/hookflow/internal/testenv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procStat is what /proc says of one process.
type procStat struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // VmHWM, bytes
}

// readProc reads the CPU time and peak RSS of pid from /proc.
func readProc(pid int) (procStat, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces; the fields that follow it do not.
	end := bytes.LastIndexByte(raw, ')')
	if end < 0 {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(raw[end+1:]))
	// fields[0] is the state (field 3); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return procStat{}, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, err
	}
	st := procStat{CPU: time.Duration(utime+stime) * time.Second / clockTicks}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procStat{}, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return procStat{}, err
			}
			st.PeakRSS = kb << 10
		}
	}
	return st, nil
}

// serverMetrics are counters of the Temporal server that say how much work
// the deliveries cost it and whether eager dispatch took effect.
type serverMetrics struct {
	PersistenceRequests float64
	EagerWorkflowStarts float64
	EagerWorkflowDenied float64
	EagerActivities     float64
	// PersistenceSeconds is the time persistence requests took, waits
	// for the database connection included.
	PersistenceSeconds float64
	// PersistenceByOp splits PersistenceRequests by operation.
	PersistenceByOp map[string]float64
	// PersistenceSecondsByOp splits PersistenceSeconds by operation.
	PersistenceSecondsByOp map[string]float64
}

func (m serverMetrics) sub(o serverMetrics) serverMetrics {
	out := serverMetrics{
		PersistenceRequests:    m.PersistenceRequests - o.PersistenceRequests,
		EagerWorkflowStarts:    m.EagerWorkflowStarts - o.EagerWorkflowStarts,
		EagerWorkflowDenied:    m.EagerWorkflowDenied - o.EagerWorkflowDenied,
		EagerActivities:        m.EagerActivities - o.EagerActivities,
		PersistenceSeconds:     m.PersistenceSeconds - o.PersistenceSeconds,
		PersistenceByOp:        map[string]float64{},
		PersistenceSecondsByOp: map[string]float64{},
	}
	for op, v := range m.PersistenceByOp {
		if d := v - o.PersistenceByOp[op]; d > 0 {
			out.PersistenceByOp[op] = d
		}
	}
	for op, v := range m.PersistenceSecondsByOp {
		if d := v - o.PersistenceSecondsByOp[op]; d > 0 {
			out.PersistenceSecondsByOp[op] = d
		}
	}
	return out
}

// scrapeMetrics reads the dev server's Prometheus endpoint.
func scrapeMetrics(ctx context.Context, url string) (serverMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return serverMetrics{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return serverMetrics{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	m := serverMetrics{PersistenceByOp: map[string]float64{}, PersistenceSecondsByOp: map[string]float64{}}
	// Each counter adds to a total and, when byOp is set, to a split by the
	// operation label; visibility's operations are prefixed "visibility.".
	type counter struct {
		total  *float64
		byOp   map[string]float64
		prefix string
	}
	counters := map[string]counter{}
	for name, c := range map[string]counter{
		"persistence_requests":               {&m.PersistenceRequests, m.PersistenceByOp, ""},
		"persistence_latency_sum":            {&m.PersistenceSeconds, m.PersistenceSecondsByOp, ""},
		"visibility_persistence_requests":    {&m.PersistenceRequests, m.PersistenceByOp, "visibility."},
		"visibility_persistence_latency_sum": {&m.PersistenceSeconds, m.PersistenceSecondsByOp, "visibility."},
		"workflow_eager_execution":           {total: &m.EagerWorkflowStarts},
		"workflow_eager_execution_denied":    {total: &m.EagerWorkflowDenied},
		"activity_eager_execution":           {total: &m.EagerActivities},
	} {
		// Prometheus exporters may or may not add _total to counters.
		counters[name], counters[name+"_total"] = c, c
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			name, rest, _ = strings.Cut(line, " ")
		}
		c, ok := counters[name]
		if !ok {
			continue
		}
		fields := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		*c.total += v
		if _, op, ok := strings.Cut(rest, `operation="`); ok && c.byOp != nil {
			op, _, _ = strings.Cut(op, `"`)
			c.byOp[c.prefix+op] += v
		}
	}
	if err := sc.Err(); err != nil {
		return serverMetrics{}, err
	}
	return m, nil
}

// hookflowProc is `hookflow serve` running as a child process, so that its
// CPU time and peak RSS are its own.
type hookflowProc struct {
	cmd  *exec.Cmd
	url  string
	log  string
	done chan error
}

func startHookflow(ctx context.Context, bin string, env []string, logPath string) (*hookflowProc, error) {
	port, err := testenv.FreePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("HOOKFLOW_HTTP_ADDR=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	p := &hookflowProc{cmd: cmd, url: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		_ = logFile.Close()
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("hookflow exited: %v\n%s", err, tail(logPath, 20))
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("hookflow did not get ready\n%s", tail(logPath, 20))
		}
	}
}

func (p *hookflowProc) pid() int { return p.cmd.Process.Pid }

func (p *hookflowProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	// Killed if it does not stop in time; the exit status of a process
	// stopped on purpose says nothing.
	kill := time.AfterFunc(30*time.Second, func() { _ = p.cmd.Process.Kill() })
	defer kill.Stop()
	err := <-p.done
	_ = err
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
