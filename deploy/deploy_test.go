// Package deploy_test checks the deployment files at the root of the
// repository (Dockerfile, docker-compose.yml) and the scripts in deploy/
// without a Docker engine: compose is validated by docker-compose itself,
// never run.
package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const composeFile = "../docker-compose.yml"

// dockerCompose runs docker-compose on the repository's compose file. A
// missing docker-compose fails the test: CI installs it (Debian package
// docker-compose), and an unchecked compose file is how it breaks unseen.
func dockerCompose(t *testing.T, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("docker-compose")
	require.NoError(t, err, "docker-compose is needed to check %s: apt-get install -y docker-compose", composeFile)
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"-f", composeFile}, args...)...)
	// Only the compose file's own defaults, and env files written by
	// deploy/gen-env.sh into a temporary folder: no settings leak in from
	// the environment of whoever runs the test, and nothing is written
	// into the checkout.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, generated.vars()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "docker-compose %s:\n%s", strings.Join(args, " "), stderr.String())
	return out
}

// generatedEnv is where deploy/gen-env.sh wrote the env files the
// compose file reads, for this test run.
type generatedEnv struct{ dir string }

func (g generatedEnv) hookflow() string   { return filepath.Join(g.dir, "hookflow.env") }
func (g generatedEnv) codecProxy() string { return filepath.Join(g.dir, "codec-proxy.env") }
func (g generatedEnv) grafana() string    { return filepath.Join(g.dir, "grafana.env") }
func (g generatedEnv) vars() []string {
	return []string{"HOOKFLOW_ENV_FILE=" + g.hookflow(), "CODEC_PROXY_ENV_FILE=" + g.codecProxy(), "GRAFANA_ENV_FILE=" + g.grafana()}
}

var generated generatedEnv

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookflow-deploy-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	generated = generatedEnv{dir: dir}
	code := 1
	if out, err := exec.Command("sh", "gen-env.sh", dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "gen-env.sh: %v\n%s", err, out)
	} else {
		code = m.Run()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func TestComposeFileIsValid(t *testing.T) {
	dockerCompose(t, "config", "-q")
}

// service is the part of a normalized compose service these tests read.
type service struct {
	Image         string            `yaml:"image"`
	Build         any               `yaml:"build"`
	ContainerName string            `yaml:"container_name"`
	Command       []string          `yaml:"command"`
	Entrypoint    []string          `yaml:"entrypoint"`
	Environment   map[string]string `yaml:"environment"`
	Ports         []any             `yaml:"ports"`
	Volumes       []any             `yaml:"volumes"`
	DependsOn     map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// composeServices returns the services as docker-compose resolves them,
// with anchors merged and variables given their defaults.
func composeServices(t *testing.T) map[string]service {
	t.Helper()
	var cfg struct {
		Services map[string]service `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(dockerCompose(t, "config"), &cfg))
	return cfg.Services
}

// portPairs lists a service's ports as "published->target", from either
// the short ("127.0.0.1:7233:7233/tcp") or the long form.
func portPairs(t *testing.T, ports []any) []string {
	t.Helper()
	var pairs []string
	for _, p := range ports {
		switch p := p.(type) {
		case string:
			parts := strings.Split(strings.TrimSuffix(p, "/tcp"), ":")
			require.GreaterOrEqual(t, len(parts), 2, "port %q", p)
			pairs = append(pairs, parts[len(parts)-2]+"->"+parts[len(parts)-1])
		case map[string]any:
			pairs = append(pairs, fmt.Sprint(p["published"])+"->"+fmt.Sprint(p["target"]))
		default:
			t.Fatalf("unexpected port %#v", p)
		}
	}
	return pairs
}

func TestComposeTopology(t *testing.T) {
	services := composeServices(t)
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	require.ElementsMatch(t,
		[]string{"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-ui", "codec-proxy", "api", "worker", "prometheus", "grafana"}, names)

	t.Run("PostgreSQL", func(t *testing.T) {
		pg := services["postgresql"]
		require.True(t, strings.HasPrefix(pg.Image, "postgres:16."), pg.Image)
		require.Contains(t, strings.Join(pg.Healthcheck.Test, " "), "pg_isready")
		require.Equal(t, "hookflow", pg.Environment["POSTGRES_DB"])
	})

	t.Run("TemporalOnPostgreSQL", func(t *testing.T) {
		tmp := services["temporal"]
		require.Equal(t, "postgres12", tmp.Environment["DB"])
		require.Equal(t, "postgresql", tmp.Environment["POSTGRES_SEEDS"])
		require.NotEmpty(t, tmp.Healthcheck.Test)
		require.Equal(t, "service_completed_successfully", tmp.DependsOn["temporal-schema"].Condition)

		setup := services["temporal-setup"]
		require.Equal(t, "service_healthy", setup.DependsOn["temporal"].Condition)
		require.Equal(t, "temporal:7233", setup.Environment["TEMPORAL_ADDRESS"])
		require.Contains(t, setup.Image, "temporalio/admin-tools:")
		require.Contains(t, strings.Join(setup.Entrypoint, " "), "temporal-setup.sh")

		schema := services["temporal-schema"]
		require.Equal(t, "postgres12", schema.Environment["SQL_PLUGIN"])
		require.Equal(t, "service_healthy", schema.DependsOn["postgresql"].Condition)
		require.Contains(t, strings.Join(schema.Entrypoint, " "), "temporal-schema.sh")

		ui := services["temporal-ui"]
		require.Equal(t, []string{"8233->8080"}, portPairs(t, ui.Ports))
		require.Equal(t, "temporal:7233", ui.Environment["TEMPORAL_ADDRESS"])
	})

	for _, role := range []string{"api", "worker"} {
		t.Run("Hookflow_"+role, func(t *testing.T) {
			s := services[role]
			require.Equal(t, []string{role}, s.Command)
			require.NotNil(t, s.Build, "built from this repository's Dockerfile")
			require.True(t, strings.HasPrefix(s.Environment["HOOKFLOW_DATABASE_URL"], "postgres://"),
				"HOOKFLOW_DATABASE_URL = %q", s.Environment["HOOKFLOW_DATABASE_URL"])
			require.Contains(t, s.Environment["HOOKFLOW_DATABASE_URL"], "@postgresql:5432/hookflow")
			require.Equal(t, "temporal:7233", s.Environment["HOOKFLOW_TEMPORAL_ADDRESS"])
			require.Equal(t, "service_healthy", s.DependsOn["postgresql"].Condition)
			require.Equal(t, "service_completed_successfully", s.DependsOn["temporal-setup"].Condition,
				"workers must not start before the search attributes exist")
		})
	}

	t.Run("APIServesAndIsChecked", func(t *testing.T) {
		api := services["api"]
		require.Equal(t, "0.0.0.0:8080", api.Environment["HOOKFLOW_HTTP_ADDR"])
		require.Equal(t, []string{"8080->8080"}, portPairs(t, api.Ports))
		require.Contains(t, strings.Join(api.Healthcheck.Test, " "), "127.0.0.1:8080/readyz",
			"ready when the database answers, not merely alive")
	})

	t.Run("WorkerScales", func(t *testing.T) {
		// docker-compose up --scale worker=3 needs distinct container names
		// and no host port that the replicas would fight over.
		worker := services["worker"]
		require.Empty(t, worker.ContainerName)
		require.Empty(t, worker.Ports)
	})

	t.Run("WorkerServesMetricsAndHealth", func(t *testing.T) {
		// A worker has no API: its /metrics and /healthz are on
		// HOOKFLOW_METRICS_ADDR, inside the compose network only.
		worker := services["worker"]
		require.Equal(t, "0.0.0.0:9090", worker.Environment["HOOKFLOW_METRICS_ADDR"])
		require.Contains(t, strings.Join(worker.Healthcheck.Test, " "), "127.0.0.1:9090/healthz")
	})

	t.Run("ImagesArePinned", func(t *testing.T) {
		// A full version (16.9, v3.5.0, 1.28.0-alpine), not a moving tag
		// (latest, 16, alpine): the same file deploys the same thing.
		full := regexp.MustCompile(`^v?\d+\.\d+(\.\d+)?([-.][0-9A-Za-z.-]+)?$`)
		for name, s := range services {
			_, tag, ok := strings.Cut(s.Image, ":")
			require.True(t, ok, "%s: image %q has no tag", name, s.Image)
			require.Regexp(t, full, tag, "%s: pin %q to a full version", name, s.Image)
		}
	})
}

func TestComposeScriptsExist(t *testing.T) {
	for name, s := range composeServices(t) {
		for _, v := range s.Volumes {
			spec, ok := v.(string)
			if !ok {
				continue
			}
			source, _, _ := strings.Cut(spec, ":")
			if !filepath.IsAbs(source) {
				continue // a named volume
			}
			_, err := os.Stat(source)
			require.NoError(t, err, "%s mounts it", name)
		}
	}
}

func TestTemporalSetupRegistersEverySearchAttribute(t *testing.T) {
	script, err := os.ReadFile("temporal-setup.sh")
	require.NoError(t, err)
	for _, name := range []string{"HookflowEventType", "HookflowEventID", "HookflowSubscriptionID", "HookflowStatus", "HookflowApplicationID"} {
		require.Regexp(t, `--name `+name+` --type Keyword\b`, string(script))
	}
}

func TestShellScriptsParse(t *testing.T) {
	scripts, err := filepath.Glob("*.sh")
	require.NoError(t, err)
	cluster, err := filepath.Glob("../scripts/cluster/*.sh")
	require.NoError(t, err)
	scripts = append(scripts, cluster...)
	require.NotEmpty(t, scripts)
	for _, s := range scripts {
		text, err := os.ReadFile(s)
		require.NoError(t, err)
		shebang, _, _ := strings.Cut(string(text), "\n")
		require.True(t, strings.HasPrefix(shebang, "#!"), "%s has no #! line", s)
		shell := "sh" // POSIX: these also run in the alpine-based admin-tools image
		if strings.Contains(shebang, "bash") {
			shell = "bash"
		}
		out, err := exec.CommandContext(t.Context(), shell, "-n", s).CombinedOutput()
		require.NoError(t, err, "%s: %s", s, out)
	}
}

func TestDockerfileBuildsStaticBinaryWithGoModRelease(t *testing.T) {
	dockerfile, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	gomod, err := os.ReadFile("../go.mod")
	require.NoError(t, err)

	goDirective := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	require.NotNil(t, goDirective, "go.mod has no go directive")
	builder := regexp.MustCompile(`(?m)^FROM golang:(\d+\.\d+)\S* AS build$`).FindSubmatch(dockerfile)
	require.NotNil(t, builder, "Dockerfile has no golang builder stage")
	require.Equal(t, string(goDirective[1]), string(builder[1]), "the builder image must be go.mod's Go release")

	text := string(dockerfile)
	require.Contains(t, text, "CGO_ENABLED=0")
	require.Contains(t, text, "./cmd/hookflow")
	user := regexp.MustCompile(`(?m)^USER (\S+)$`).FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, user, "the runtime stage must not run as root")
	last := user[len(user)-1][1]
	require.NotContains(t, []string{"root", "0", "0:0", "root:root"}, last)
	require.Regexp(t, `(?m)^ENTRYPOINT \["/usr/local/bin/hookflow"\]$`, text)
}

// The linker ignores -X for a variable that does not exist, so a renamed
// version variable would silently ship every image as "dev".
func TestDockerfileStampsAnExistingVersionVariable(t *testing.T) {
	dockerfile, err := os.ReadFile("../Dockerfile")
	require.NoError(t, err)
	stamp := regexp.MustCompile(`-X (\S+)\.(\w+)=\$\{VERSION\}`).FindSubmatch(dockerfile)
	require.NotNil(t, stamp, "the Dockerfile must stamp the version with -X")
	out, err := exec.CommandContext(t.Context(), "go", "doc", "-short", string(stamp[1])+"."+string(stamp[2])).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "var "+string(stamp[2])+" ")
}
