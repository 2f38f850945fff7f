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

	"go.temporal.io/sdk/client"

	"github.com/hookflow/hookflow/workflows"
)

// DevServerProcess is a Temporal dev server the test can stop and start
// again on the same port with the same state file, as an outage of the
// Temporal service looks to Hookflow. StartTemporal's server, shared by a
// package's tests, is not for stopping.
type DevServerProcess struct {
	// Address is the frontend's host:port; it stays the same across restarts.
	Address string
	cli     string
	args    []string
	logFile string
	cmd     *exec.Cmd
	done    chan error
}

// StartDevServerProcess starts a dev server on a free port that keeps its
// state in dir, with Hookflow's search attributes. Stop it with Stop.
func StartDevServerProcess(ctx context.Context, dir string) (*DevServerProcess, error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &DevServerProcess{
		Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		cli:     cli,
		logFile: filepath.Join(dir, "temporal.log"),
		args: []string{"server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
			"--db-filename", filepath.Join(dir, "temporal.db"), "--log-level", "error"},
	}
	for _, key := range workflows.SearchAttributes {
		p.args = append(p.args, "--search-attribute", key.GetName()+"=Keyword")
	}
	p.args = append(p.args, DevServerArgs...)
	return p, p.Start(ctx)
}

// Start starts the server (again) and waits until it answers.
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
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: p.Address, Logger: quietLogger()})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case err := <-p.done:
			p.cmd = nil
			return fmt.Errorf("dev server exited (log: %s): %v", p.logFile, err)
		case <-ctx.Done():
			_ = p.Stop()
			return fmt.Errorf("dev server on %s did not answer: %w", p.Address, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops the server and waits until it has exited.
func (p *DevServerProcess) Stop() error {
	if p.cmd == nil {
		return nil
	}
	defer func() { p.cmd = nil }()
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
