package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/sluice-cdc/sluice/configs"
	"github.com/sluice-cdc/sluice/internal/api"
)

// rendered is one kustomization's output, decoded.
type rendered struct {
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	configMaps  map[string]*corev1.ConfigMap
	pvcs        map[string]*corev1.PersistentVolumeClaim
	pdbs        []*policyv1.PodDisruptionBudget
}

// decodeStrict decodes JSON into out, failing on unknown fields.
func decodeStrict(b []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

func render(t *testing.T, dir string) rendered {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	r := rendered{configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	for _, res := range m.Resources() {
		b, err := res.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: %v", res.CurId(), err)
		}
		var obj any
		switch res.GetKind() {
		case "Deployment":
			d := &appsv1.Deployment{}
			r.deployments, obj = append(r.deployments, d), d
		case "Service":
			s := &corev1.Service{}
			r.services, obj = append(r.services, s), s
		case "ConfigMap":
			c := &corev1.ConfigMap{}
			r.configMaps[res.GetName()], obj = c, c
		case "PersistentVolumeClaim":
			p := &corev1.PersistentVolumeClaim{}
			r.pvcs[res.GetName()], obj = p, p
		case "PodDisruptionBudget":
			p := &policyv1.PodDisruptionBudget{}
			r.pdbs, obj = append(r.pdbs, p), p
		case "ServiceAccount":
			obj = &corev1.ServiceAccount{}
		default:
			t.Errorf("%s: kind %s is not checked by this test; add it", res.CurId(), res.GetKind())
			continue
		}
		if err := decodeStrict(b, obj); err != nil {
			t.Errorf("%s does not decode strictly into %T: %v\n%s", res.CurId(), obj, err, b)
		}
	}
	return r
}

// backend answers the probes as a healthy daemon does.
type backend struct{}

func (backend) Connectors() []string { return nil }
func (backend) ConnectorStatus(context.Context, string) (api.ConnectorStatus, error) {
	return api.ConnectorStatus{}, nil
}
func (backend) ConnectorInfo(string) (api.ConnectorInfo, error) { return api.ConnectorInfo{}, nil }
func (backend) Pause(string) error                              { return nil }
func (backend) Resume(string) error                             { return nil }
func (backend) Restart(string) error                            { return nil }
func (backend) Snapshot(string, []string) error                 { return nil }
func (backend) Ready(context.Context) error                     { return nil }

// apiServes reports whether sluice's REST API answers GET path with 200.
func apiServes(t *testing.T, p string) bool {
	t.Helper()
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv := httptest.NewServer(api.Handler(api.Options{Backend: backend{}, Metrics: metrics}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + p)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`) // ${VAR}; ${VAR:-default} needs no env

func TestOverlays(t *testing.T) {
	dirs := []string{"kustomize/base"}
	overlays, err := filepath.Glob("kustomize/overlays/*")
	if err != nil || len(overlays) < 2 {
		t.Fatalf("overlays: %v %v", overlays, err)
	}
	dirs = append(dirs, overlays...)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			r := render(t, dir)
			if len(r.deployments) == 0 || len(r.services) == 0 || len(r.pdbs) == 0 {
				t.Fatalf("want Deployments, a Service and PodDisruptionBudgets; got %d, %d, %d", len(r.deployments), len(r.services), len(r.pdbs))
			}
			for _, d := range r.deployments {
				t.Run(d.Name, func(t *testing.T) {
					checkDeployment(t, r, d, strings.Contains(dir, "overlays"))
				})
			}
			for _, s := range r.services {
				checkService(t, r, s)
			}
			for _, p := range r.pdbs {
				if findSelected(r, p.Spec.Selector.MatchLabels) == nil {
					t.Errorf("PodDisruptionBudget %s selects no Deployment's pods", p.Name)
				}
			}
		})
	}
}

func findSelected(r rendered, sel map[string]string) *appsv1.Deployment {
	for _, d := range r.deployments {
		ok := len(sel) > 0
		for k, v := range sel {
			if d.Spec.Template.Labels[k] != v {
				ok = false
			}
		}
		if ok {
			return d
		}
	}
	return nil
}

func checkService(t *testing.T, r rendered, s *corev1.Service) {
	d := findSelected(r, s.Spec.Selector)
	if d == nil {
		t.Errorf("Service %s selects no Deployment's pods", s.Name)
		return
	}
	for _, p := range s.Spec.Ports {
		if _, ok := containerPort(d.Spec.Template.Spec.Containers[0], p.TargetPort.String()); !ok {
			t.Errorf("Service %s port %s: target port %s is not a port of %s", s.Name, p.Name, p.TargetPort.String(), d.Name)
		}
	}
}

// containerPort resolves a port name or number.
func containerPort(c corev1.Container, port string) (int32, bool) {
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

func checkDeployment(t *testing.T, r rendered, d *appsv1.Deployment, overlay bool) {
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas must be 1 (a source group or a sink runs once)")
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q, want Recreate", d.Spec.Strategy.Type)
	}
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("the pod must run as a numeric non-root user: %+v", psc)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("want one container, got %d", len(spec.Containers))
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
		sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || (sc.RunAsUser != nil && *sc.RunAsUser == 0) ||
		sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("container security context: %+v", sc)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("no %s request", res)
		}
	}
	if _, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok {
		t.Errorf("no memory limit")
	}
	if !strings.HasPrefix(c.Image, "ghcr.io/sluice-cdc/sluice:") {
		t.Errorf("image %q", c.Image)
	}

	// The configuration: -c FILE in a ConfigMap mounted read-only.
	cfgPath := ""
	for i, a := range c.Args {
		if a == "-c" && i+1 < len(c.Args) {
			cfgPath = c.Args[i+1]
		}
	}
	if len(c.Args) == 0 || c.Args[0] != "run" || cfgPath == "" {
		t.Fatalf("args %q: want run -c FILE", c.Args)
	}
	vol, mount := volumeAt(spec, c, path.Dir(cfgPath))
	if vol == nil || vol.ConfigMap == nil || !mount.ReadOnly {
		t.Fatalf("%s is not on a read-only ConfigMap volume", cfgPath)
	}
	cm := r.configMaps[vol.ConfigMap.Name]
	if cm == nil {
		t.Fatalf("ConfigMap %s is not in the output", vol.ConfigMap.Name)
	}
	yaml, ok := cm.Data[path.Base(cfgPath)]
	if !ok {
		t.Fatalf("ConfigMap %s has no %s", cm.Name, path.Base(cfgPath))
	}
	// Every ${VAR} must come from the container's environment.
	for _, m := range envRef.FindAllStringSubmatch(yaml, -1) {
		if !hasEnv(c, m[1]) {
			t.Errorf("the configuration uses ${%s}, which the container's env does not set", m[1])
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Setenv(e.Name, "placeholder-"+e.Name)
		} else if e.Value != "" {
			t.Setenv(e.Name, e.Value)
		}
	}
	file := filepath.Join(t.TempDir(), path.Base(cfgPath))
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(file)
	if err != nil {
		t.Fatalf("sluice validate rejects the ConfigMap's %s:\n%v", path.Base(cfgPath), err)
	}
	if strings.Contains(cfg.String(), "placeholder-") {
		t.Errorf("a secret shows in the redacted configuration:\n%s", cfg)
	}

	// state_dir must be writable (the root filesystem is read-only); with
	// the embedded broker, an overlay keeps it on a PersistentVolumeClaim.
	svol, smount := volumeAt(spec, c, cfg.StateDir)
	if svol == nil || smount.ReadOnly {
		t.Errorf("state_dir %s is not on a writable volume", cfg.StateDir)
	} else if overlay && len(cfg.Kafka.Brokers) == 0 {
		if svol.PersistentVolumeClaim == nil || r.pvcs[svol.PersistentVolumeClaim.ClaimName] == nil {
			t.Errorf("the embedded broker's state_dir %s is not on a PersistentVolumeClaim of this overlay", cfg.StateDir)
		}
	}

	// Probes and scraping hit the REST API's real paths on its port.
	_, apiPort, err := net.SplitHostPort(cfg.API.Listen)
	if err != nil || cfg.API.Listen == "" {
		t.Fatalf("api.listen %q", cfg.API.Listen)
	}
	if host, _, _ := net.SplitHostPort(cfg.API.Listen); host == "127.0.0.1" || host == "localhost" {
		t.Errorf("api.listen %s is not reachable by the kubelet's probes", cfg.API.Listen)
	}
	for name, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", name)
			continue
		}
		port, ok := containerPort(c, p.HTTPGet.Port.String())
		if !ok || strconv.Itoa(int(port)) != apiPort {
			t.Errorf("%s probe port %s is not the API's port %s", name, p.HTTPGet.Port.String(), apiPort)
		}
		if !apiServes(t, p.HTTPGet.Path) {
			t.Errorf("%s probe path %s is not served by sluice's API", name, p.HTTPGet.Path)
		}
	}
	if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("liveness must be /healthz (process alive), not %s", c.LivenessProbe.HTTPGet.Path)
	}
	if c.ReadinessProbe != nil && c.ReadinessProbe.HTTPGet != nil && c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("readiness must be /readyz, not %s", c.ReadinessProbe.HTTPGet.Path)
	}
	ann := d.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != apiPort || ann["prometheus.io/path"] != "/metrics" || !apiServes(t, ann["prometheus.io/path"]) {
		t.Errorf("Prometheus annotations %v", ann)
	}
	if g := spec.TerminationGracePeriodSeconds; g == nil || int64(cfg.ShutdownTimeout.Std().Seconds()) >= *g {
		t.Errorf("terminationGracePeriodSeconds must exceed shutdown_timeout %s", cfg.ShutdownTimeout)
	}
}

func hasEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// volumeAt returns the volume mounted at dir (or a parent of it).
func volumeAt(spec corev1.PodSpec, c corev1.Container, dir string) (*corev1.Volume, corev1.VolumeMount) {
	var best corev1.VolumeMount
	for _, m := range c.VolumeMounts {
		if (dir == m.MountPath || strings.HasPrefix(dir, strings.TrimSuffix(m.MountPath, "/")+"/")) && len(m.MountPath) > len(best.MountPath) {
			best = m
		}
	}
	for i := range spec.Volumes {
		if best.Name != "" && spec.Volumes[i].Name == best.Name {
			return &spec.Volumes[i], best
		}
	}
	return nil, best
}

// TestDockerfile checks the image is static and runs as a numeric non-root
// user.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if strings.EqualFold(f[0], "FROM") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], line)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, got %d stages", len(stages))
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("the build does not set CGO_ENABLED=0")
	}
	final := stages[len(stages)-1]
	if from := final[0]; !strings.Contains(from, "distroless/static") && !strings.Contains(from, "scratch") {
		t.Errorf("final stage %q: want distroless/static or scratch", from)
	}
	user := ""
	for _, l := range final {
		if f := strings.Fields(l); strings.EqualFold(f[0], "USER") {
			user = f[1]
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final stage USER %q: want a numeric non-root uid", user)
	}
}
