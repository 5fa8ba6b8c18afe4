package main

import (
	"fmt"
	"strconv"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Variables that hold secrets (src/config.ts FILE_VARIABLES, plus Temporal Cloud's API key): never a literal value
// in a manifest; NAME_FILE on a Secret volume or a secretKeyRef instead.
var secretVariables = []string{"DATABASE_URL", "REDIS_URL", "SMTP_USER", "SMTP_PASSWORD", "PAYLOAD_ENCRYPTION_KEY",
	"UNSUBSCRIBE_SECRET", "UNSUBSCRIBE_PREVIOUS_SECRETS", "TEMPORAL_API_KEY"}

// The SDK's shutdownForceTime is SHUTDOWN_GRACE_MS + 10 s (src/worker.ts): the most a drain can take.
const forceTimeMs = 10_000

type checker struct {
	problems   []string
	configMaps map[string]*corev1.ConfigMap
}

func (c *checker) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func check(objects []object) []string {
	c := &checker{configMaps: map[string]*corev1.ConfigMap{}}
	var worker *appsv1.Deployment
	for _, o := range objects {
		switch v := o.value.(type) {
		case *corev1.ConfigMap:
			c.configMaps[v.Name] = v
			for _, name := range secretVariables {
				if _, found := v.Data[name]; found {
					c.fail("ConfigMap %s: %s is a secret; put it in the Secret", v.Name, name)
				}
			}
		case *appsv1.Deployment:
			if v.Name == "sendonce-worker" {
				worker = v
			}
		}
	}
	if worker == nil {
		c.fail("no Deployment sendonce-worker")
		return c.problems
	}
	c.checkWorker(worker)
	podLabels := labels.Set(worker.Spec.Template.Labels)
	container := worker.Spec.Template.Spec.Containers[0]
	for _, o := range objects {
		switch v := o.value.(type) {
		case *batchv1.Job:
			c.checkJob(v, container.Image)
		case *corev1.Service:
			c.selects("Service "+v.Name, &metav1.LabelSelector{MatchLabels: v.Spec.Selector}, podLabels)
			for _, p := range v.Spec.Ports {
				port, ok := containerPort(container, p.TargetPort)
				if !ok {
					c.fail("Service %s: targetPort %s is no port of the worker container", v.Name, p.TargetPort.String())
				} else if port.Name != "unsubscribe" {
					c.fail("Service %s: exposes the worker's %s port; only unsubscribe is served outside the pod", v.Name, port.Name)
				}
			}
		case *monitoringv1.PodMonitor:
			c.selects("PodMonitor "+v.Name, &v.Spec.Selector, podLabels)
			for _, e := range v.Spec.PodMetricsEndpoints {
				if e.Port == nil {
					c.fail("PodMonitor %s: an endpoint without a port name", v.Name)
					continue
				}
				port, ok := containerPort(container, intstr.FromString(*e.Port))
				if !ok || strconv.Itoa(int(port.ContainerPort)) != env(container, "METRICS_PORT") {
					c.fail("PodMonitor %s: port %q is not the worker's METRICS_PORT container port", v.Name, *e.Port)
				}
				if e.Path != "" && e.Path != "/metrics" {
					c.fail("PodMonitor %s: path %s; the worker serves /metrics", v.Name, e.Path)
				}
			}
		case *policyv1.PodDisruptionBudget:
			c.selects("PodDisruptionBudget "+v.Name, v.Spec.Selector, podLabels)
			if v.Spec.MinAvailable == nil || v.Spec.MinAvailable.IntValue() >= int(*worker.Spec.Replicas) {
				c.fail("PodDisruptionBudget %s: minAvailable must be below the %d replicas, or no node can drain", v.Name, *worker.Spec.Replicas)
			}
		}
	}
	return c.problems
}

func (c *checker) checkWorker(d *appsv1.Deployment) {
	where := "Deployment " + d.Name
	spec := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		c.fail("%s: at least 2 replicas, so a drain or a crash leaves one sending", where)
	}
	c.selects(where, d.Spec.Selector, labels.Set(d.Spec.Template.Labels))
	if len(spec.Containers) != 1 {
		c.fail("%s: one container expected, found %d", where, len(spec.Containers))
		return
	}
	w := spec.Containers[0]
	c.checkPod(where, spec)
	for name, variable := range map[string]string{"metrics": "METRICS_PORT", "health": "HEALTH_PORT", "unsubscribe": "UNSUBSCRIBE_PORT"} {
		port, ok := containerPort(w, intstr.FromString(name))
		if !ok || strconv.Itoa(int(port.ContainerPort)) != env(w, variable) {
			c.fail("%s: container port %q must exist and equal %s (%q)", where, name, variable, env(w, variable))
		}
	}
	probes := []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"startupProbe", "/healthz", w.StartupProbe}, {"livenessProbe", "/healthz", w.LivenessProbe}, {"readinessProbe", "/readyz", w.ReadinessProbe}}
	for _, p := range probes {
		if p.probe == nil || p.probe.HTTPGet == nil {
			c.fail("%s: %s must be an httpGet probe", where, p.kind)
			continue
		}
		port, ok := containerPort(w, p.probe.HTTPGet.Port)
		if p.probe.HTTPGet.Path != p.path || !ok || strconv.Itoa(int(port.ContainerPort)) != env(w, "HEALTH_PORT") {
			c.fail("%s: %s must get %s on HEALTH_PORT (src/health.ts)", where, p.kind, p.path)
		}
	}
	grace, err := strconv.Atoi(env(w, "SHUTDOWN_GRACE_MS"))
	if err != nil {
		c.fail("%s: SHUTDOWN_GRACE_MS must be set in the Deployment (the grace period depends on it)", where)
	} else if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds*1000 <= int64(grace+forceTimeMs) {
		c.fail("%s: terminationGracePeriodSeconds must exceed SHUTDOWN_GRACE_MS + 10 s (%d ms), or the kubelet kills a draining worker", where, grace+forceTimeMs)
	}
}

func (c *checker) checkJob(j *batchv1.Job, workerImage string) {
	where := "Job " + j.Name
	spec := j.Spec.Template.Spec
	c.checkPod(where, spec)
	if spec.RestartPolicy != corev1.RestartPolicyOnFailure && spec.RestartPolicy != corev1.RestartPolicyNever {
		c.fail("%s: restartPolicy OnFailure or Never", where)
	}
	if len(spec.Containers) == 1 && spec.Containers[0].Image != workerImage {
		c.fail("%s: image %s, not the worker's %s", where, spec.Containers[0].Image, workerImage)
	}
}

// checkPod: what every sendonce pod needs (the image's node user, a read-only root, resources, no literal secrets).
func (c *checker) checkPod(where string, spec corev1.PodSpec) {
	pod := spec.SecurityContext
	if pod == nil || pod.RunAsNonRoot == nil || !*pod.RunAsNonRoot || pod.RunAsUser == nil || *pod.RunAsUser != 1000 {
		c.fail("%s: securityContext runAsNonRoot and runAsUser 1000 (the image's node user)", where)
	}
	secretMounts := map[string]bool{}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			secretMounts[v.Name] = true
		}
	}
	for _, ct := range spec.Containers {
		at := fmt.Sprintf("%s container %s", where, ct.Name)
		sc := ct.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			c.fail("%s: readOnlyRootFilesystem true and allowPrivilegeEscalation false", at)
		}
		req, lim := ct.Resources.Requests, ct.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() || req.Memory().Cmp(*lim.Memory()) > 0 {
			c.fail("%s: cpu and memory requests and a memory limit at least the request", at)
		}
		for _, e := range ct.Env {
			for _, s := range secretVariables {
				if e.Name == s && e.ValueFrom == nil {
					c.fail("%s: %s has a literal value; use %s_FILE or a secretKeyRef", at, s, s)
				}
				if e.Name == s+"_FILE" && !underSecretMount(ct, secretMounts, e.Value) {
					c.fail("%s: %s_FILE=%s is not on a mounted Secret volume", at, s, e.Value)
				}
			}
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				ref := e.ValueFrom.ConfigMapKeyRef
				if cm, ok := c.configMaps[ref.Name]; !ok || cm.Data[ref.Key] == "" {
					c.fail("%s: %s reads ConfigMap %s key %s, which is not in the manifests", at, e.Name, ref.Name, ref.Key)
				}
			}
		}
		for _, from := range ct.EnvFrom {
			if from.ConfigMapRef != nil && c.configMaps[from.ConfigMapRef.Name] == nil {
				c.fail("%s: envFrom ConfigMap %s is not in the manifests", at, from.ConfigMapRef.Name)
			}
		}
	}
}

func (c *checker) selects(where string, selector *metav1.LabelSelector, pod labels.Set) {
	if selector == nil || (len(selector.MatchLabels) == 0 && len(selector.MatchExpressions) == 0) {
		c.fail("%s: an empty selector selects every pod", where)
		return
	}
	s, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		c.fail("%s: selector: %v", where, err)
	} else if !s.Matches(pod) {
		c.fail("%s: selector %s does not select the worker pods (%s)", where, s, pod)
	}
}

// env is a container's literal value of name ("" when unset or from a reference).
func env(ct corev1.Container, name string) string {
	for _, e := range ct.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

func containerPort(ct corev1.Container, port intstr.IntOrString) (corev1.ContainerPort, bool) {
	for _, p := range ct.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p, true
		}
	}
	return corev1.ContainerPort{}, false
}

func underSecretMount(ct corev1.Container, secretVolumes map[string]bool, path string) bool {
	for _, m := range ct.VolumeMounts {
		if secretVolumes[m.Name] && strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/") {
			return true
		}
	}
	return false
}
