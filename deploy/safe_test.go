package deploy_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/hookflow/hookflow/config"
	"github.com/hookflow/hookflow/metrics"
)

// hostBindings lists a service's published ports as "hostIP:published",
// with "*" for every interface.
func hostBindings(t *testing.T, ports []any) []string {
	t.Helper()
	var out []string
	for _, p := range ports {
		switch p := p.(type) {
		case string:
			parts := strings.Split(strings.TrimSuffix(p, "/tcp"), ":")
			host := "*"
			if len(parts) == 3 {
				host = parts[0]
			}
			out = append(out, host+":"+parts[len(parts)-2])
		case map[string]any:
			host := "*"
			if ip, ok := p["host_ip"].(string); ok && ip != "" {
				host = ip
			}
			out = append(out, host+":"+strings.Trim(toString(p["published"]), `"`))
		default:
			t.Fatalf("unexpected port %#v", p)
		}
	}
	return out
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// readEnvFile reads KEY=VALUE lines, as docker-compose does.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not KEY=VALUE", path, line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}

// The keys are in an env file, never in the compose file, and without
// that file nothing starts.
func TestComposeTakesKeysFromAnEnvFileOnly(t *testing.T) {
	raw, err := os.ReadFile(composeFile)
	require.NoError(t, err)
	require.NotRegexp(t, `(?m)^[^#\n]*(HOOKFLOW_(API_KEYS|SECRET_KEY|CODEC_KEYS|UI_CODEC_KEY)\s*:|\$\{HOOKFLOW_(API_KEYS|SECRET_KEY|CODEC_KEYS|UI_CODEC_KEY))`, string(raw),
		"a key in docker-compose.yml (or an empty default for one) is how an open API ships")

	bin, err := exec.LookPath("docker-compose")
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), bin, "-f", composeFile, "config", "-q")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "HOOKFLOW_ENV_FILE=" + t.TempDir() + "/missing.env",
		"CODEC_PROXY_ENV_FILE=" + generated.codecProxy(), "GRAFANA_ENV_FILE=" + generated.grafana()}
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "compose must refuse to run without the env file")
	require.Contains(t, string(out), "missing.env")

	// The example documents every key the compose file and gen-env.sh use,
	// and holds no value to copy.
	example := readEnvFile(t, "hookflow.env.example")
	written := readEnvFile(t, generated.hookflow())
	require.ElementsMatch(t, keys(example), keys(written))
	for k, v := range example {
		require.Empty(t, v, "hookflow.env.example gives %s a value that would be deployed as is", k)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// What docker-compose resolves, with the files gen-env.sh writes: every
// Hookflow process has the keys, and they are keys Hookflow accepts.
func TestComposeIsSafeByDefault(t *testing.T) {
	services := composeServices(t)
	for _, role := range []string{"api", "worker"} {
		env := services[role].Environment
		for _, k := range []string{"HOOKFLOW_API_KEYS", "HOOKFLOW_SECRET_KEY", "HOOKFLOW_CODEC_KEYS"} {
			require.NotEmpty(t, env[k], "%s: %s", role, k)
		}
		require.Empty(t, env["HOOKFLOW_INSECURE_NO_AUTH"], "%s must not opt out of authentication", role)
	}
	require.Equal(t, services["api"].Environment["HOOKFLOW_CODEC_KEYS"], services["worker"].Environment["HOOKFLOW_CODEC_KEYS"],
		"the API and the workers must encrypt with the same keys")

	// The API's configuration, as the container gets it, loads and may
	// listen on 0.0.0.0.
	for k, v := range services["api"].Environment {
		if strings.HasPrefix(k, "HOOKFLOW_") && k != "HOOKFLOW_UI_CODEC_KEY" {
			t.Setenv(k, v)
		}
	}
	cfg, err := config.Load()
	require.NoError(t, err, "the generated keys must be keys Hookflow accepts")
	require.NoError(t, cfg.CheckAPIExposure())
	require.Len(t, cfg.APIKeys, 2, "the operators' key and the Temporal UI's codec key")

	t.Run("OnlyTheAPIIsPublishedBeyondLoopback", func(t *testing.T) {
		for name, s := range services {
			for _, b := range hostBindings(t, s.Ports) {
				if name == "api" {
					continue // authenticated
				}
				require.True(t, strings.HasPrefix(b, "127.0.0.1:"), "%s publishes %s: it has no login of its own", name, b)
			}
		}
	})

	t.Run("TemporalUIDecodesThroughTheCodecProxy", func(t *testing.T) {
		ui := services["temporal-ui"]
		proxy := services["codec-proxy"]
		require.Equal(t, "http://127.0.0.1:8081/v1/codec", ui.Environment["TEMPORAL_CODEC_ENDPOINT"])
		require.Equal(t, []string{"127.0.0.1:8081"}, hostBindings(t, proxy.Ports))
		require.Equal(t, []string{"127.0.0.1:8233"}, hostBindings(t, ui.Ports))
		// The browser's origin is the UI's published address; the API's
		// codec handler must allow it.
		require.Contains(t, strings.Split(services["api"].Environment["HOOKFLOW_CODEC_ALLOWED_ORIGINS"], ","), "http://127.0.0.1:8233")

		// The proxy knows the UI's key and nothing else of Hookflow's, and
		// that key is one the API accepts.
		uiKey := proxy.Environment["HOOKFLOW_UI_CODEC_KEY"]
		require.NotEmpty(t, uiKey)
		require.Contains(t, cfg.APIKeys, uiKey)
		for k := range proxy.Environment {
			require.Contains(t, []string{"HOOKFLOW_UI_CODEC_KEY", "NGINX_ENVSUBST_FILTER"}, k, "codec-proxy needs no %s", k)
		}
		require.Equal(t, "HOOKFLOW_UI_CODEC_KEY", proxy.Environment["NGINX_ENVSUBST_FILTER"])

		conf, err := os.ReadFile("codec-proxy.conf.template")
		require.NoError(t, err)
		text := string(conf)
		require.Regexp(t, `(?s)location /v1/codec/ \{[^}]*proxy_pass http://api:8080;[^}]*proxy_set_header Authorization "Bearer \$\{HOOKFLOW_UI_CODEC_KEY\}";`, text)
		require.Equal(t, 1, strings.Count(text, "proxy_pass"), "the key goes to /v1/codec and nowhere else")
		require.Regexp(t, `(?s)location / \{\s*return 404;`, text)
		require.Contains(t, strings.Join(volumeSpecs(proxy), " "), "codec-proxy.conf.template:/etc/nginx/templates/default.conf.template")
	})
}

// volumeSpecs lists the short (string) form of a service's volumes.
func volumeSpecs(s service) []string {
	var out []string
	for _, v := range s.Volumes {
		if str, ok := v.(string); ok {
			out = append(out, str)
		}
	}
	return out
}

// The dashboard's queries name metrics Hookflow exports (or, for the
// flow-control ones, the names that work will export), through the
// provisioned data source; Prometheus scrapes the API and every worker.
func TestGrafanaDashboardAndPrometheus(t *testing.T) {
	services := composeServices(t)
	raw, err := os.ReadFile("grafana/dashboards/hookflow.json")
	require.NoError(t, err)
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	require.Equal(t, "hookflow", dash.UID)

	var ds struct {
		Datasources []struct {
			UID, Type, URL string
		} `yaml:"datasources"`
	}
	dsRaw, err := os.ReadFile("grafana/provisioning/datasources/prometheus.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(dsRaw, &ds))
	require.Len(t, ds.Datasources, 1)
	require.Equal(t, "prometheus", ds.Datasources[0].Type)
	require.Equal(t, "http://prometheus:9090", ds.Datasources[0].URL)

	metricName := regexp.MustCompile(`\b(hookflow|temporal)_[a-z_]+`)
	used := map[string]bool{}
	for _, p := range dash.Panels {
		if p.Type == "row" {
			continue
		}
		require.NotNil(t, p.Datasource, p.Title)
		require.Equal(t, ds.Datasources[0].UID, p.Datasource.UID, "%s uses another data source", p.Title)
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			for _, m := range metricName.FindAllString(tg.Expr, -1) {
				used[strings.TrimSuffix(m, "_bucket")] = true
			}
		}
	}

	// What Hookflow's registry holds once each metric has a sample.
	m, err := metrics.New(metrics.Options{MaxSubscriptionLabels: 10})
	require.NoError(t, err)
	m.EventAccepted()
	m.DeliveryEnded("succeeded")
	m.Attempt("sub_1", time.Second, true)
	m.Throttled(metrics.LimitRateLimit)()
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(m.GinMiddleware())
	r.GET("/x", func(c *gin.Context) { c.Status(http.StatusOK) })
	r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	exported := map[string]bool{}
	for _, f := range families {
		exported[f.GetName()] = true
	}
	// The SDK's (e2e/metrics_test.go sees them from a real worker).
	later := []string{}
	sdk := []string{
		"temporal_workflow_task_schedule_to_start_latency_seconds", "temporal_activity_schedule_to_start_latency_seconds",
		"temporal_workflow_task_execution_latency_seconds", "temporal_activity_execution_latency_seconds",
		"temporal_worker_task_slots_available",
	}
	for name := range used {
		require.True(t, exported[name] || slices.Contains(later, name) || slices.Contains(sdk, name), "the dashboard queries %s, which nothing exports", name)
	}
	for _, want := range append([]string{"hookflow_deliveries_total", "hookflow_delivery_attempt_duration_seconds",
		"temporal_workflow_task_schedule_to_start_latency_seconds", "hookflow_deliveries_throttled"}, later...) {
		require.True(t, used[want], "the dashboard has no panel on %s", want)
	}

	// Provisioned where Grafana reads, from where the files are.
	g := services["grafana"]
	vols := strings.Join(volumeSpecs(g), " ")
	require.Contains(t, vols, "/deploy/grafana/provisioning:/etc/grafana/provisioning")
	require.Contains(t, vols, "/deploy/grafana/dashboards:/var/lib/grafana/dashboards")
	require.NotEmpty(t, g.Environment["GF_SECURITY_ADMIN_PASSWORD"], "from grafana.env, not Grafana's admin/admin")
	var provider struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	pRaw, err := os.ReadFile("grafana/provisioning/dashboards/hookflow.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(pRaw, &provider))
	require.Equal(t, "/var/lib/grafana/dashboards", provider.Providers[0].Options.Path)

	var prom struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
			DNSSDConfigs []struct {
				Names []string `yaml:"names"`
				Port  int      `yaml:"port"`
			} `yaml:"dns_sd_configs"`
		} `yaml:"scrape_configs"`
	}
	promRaw, err := os.ReadFile("prometheus.yml")
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(promRaw, &prom))
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
		for _, d := range sc.DNSSDConfigs {
			for _, n := range d.Names {
				targets = append(targets, n+":"+toString(d.Port))
			}
		}
	}
	require.ElementsMatch(t, []string{"api:8080", "worker:9090"}, targets)
	require.True(t, strings.HasSuffix(services["worker"].Environment["HOOKFLOW_METRICS_ADDR"], ":9090"))
	require.Contains(t, strings.Join(volumeSpecs(services["prometheus"]), " "), "/deploy/prometheus.yml:/etc/prometheus/prometheus.yml")
}
