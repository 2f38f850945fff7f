package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/workflows"
)

// DevServerProcess is a Temporal dev server in a process of its own, with
// the settings `make run` uses. A test can stop it and start it again on the
// same ports with the same state file, as an outage of the Temporal service
// looks to Hookflow; the bench reads its CPU (Pid) and its metrics
// (MetricsURL). StartTemporal's server, shared by a package's tests, is not
// for stopping.
type DevServerProcess struct {
	// Address is the frontend's host:port; it stays the same across restarts.
	Address string
	// MetricsURL is the server's Prometheus endpoint.
	MetricsURL string
	cli        string
	args       []string
	logFile    string
	cmd        *exec.Cmd
	done       chan error
}

// StartDevServerProcess starts a dev server on free ports that keeps its
// state in dir, with Hookflow's search attributes and DevServerArgs, then
// extra. Stop it with Stop.
func StartDevServerProcess(ctx context.Context, dir string, extra ...string) (*DevServerProcess, error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	var ports [3]int // frontend, HTTP API, metrics
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	p := &DevServerProcess{
		Address:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2]),
		cli:        cli,
		logFile:    filepath.Join(dir, "temporal.log"),
		args: []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", strconv.Itoa(ports[0]),
			"--http-port", strconv.Itoa(ports[1]), "--metrics-port", strconv.Itoa(ports[2]),
			"--db-filename", filepath.Join(dir, "temporal.db"), "--log-level", "warn"},
	}
	for _, key := range workflows.SearchAttributes {
		p.args = append(p.args, "--search-attribute", key.GetName()+"=Keyword")
	}
	p.args = append(p.args, DevServerArgs...)
	p.args = append(p.args, extra...)
	return p, p.Start(ctx)
}

// Pid is the server's process id; it changes with every Start.
func (p *DevServerProcess) Pid() int { return p.cmd.Process.Pid }

// Start starts the server (again) and waits until it answers with
// Hookflow's search attributes registered.
func (p *DevServerProcess) Start(ctx context.Context) error {
	if p.cmd != nil {
		return errors.New("dev server already running")
	}
	logf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.cli, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start dev server: %w", err)
	}
	p.cmd, p.done = cmd, make(chan error, 1)
	go func() {
		p.done <- cmd.Wait()
		_ = logf.Close()
	}()

	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var last error
	for {
		if last = p.ready(ctx); last == nil {
			return nil
		}
		select {
		case err := <-p.done:
			p.cmd = nil
			return fmt.Errorf("dev server exited (log: %s): %v", p.logFile, err)
		case <-ctx.Done():
			_ = p.Stop()
			return fmt.Errorf("dev server on %s did not get ready (log: %s): %v", p.Address, p.logFile, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ready reports whether the frontend answers and every search attribute
// Hookflow uses is registered on the default namespace.
func (p *DevServerProcess) ready(ctx context.Context) error {
	c, err := client.DialContext(ctx, client.Options{HostPort: p.Address, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	attrs, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		return err
	}
	for _, key := range workflows.SearchAttributes {
		if _, ok := attrs.GetCustomAttributes()[key.GetName()]; !ok {
			return fmt.Errorf("search attribute %s not registered yet", key.GetName())
		}
	}
	return nil
}

// Stop stops the server and waits until it has exited.
func (p *DevServerProcess) Stop() error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	_ = p.cmd.Process.Signal(os.Interrupt)
	// Killed if it does not stop in time; the exit status of a process
	// stopped on purpose says nothing.
	proc := p.cmd.Process
	kill := time.AfterFunc(20*time.Second, func() { _ = proc.Kill() })
	defer kill.Stop()
	err := <-p.done
	_ = err
	return nil
}

// FreePort asks the kernel for a free TCP port on loopback.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
