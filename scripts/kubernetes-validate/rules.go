package main

import (
	"fmt"
	"os"
	"reflect"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// alertGroups reads a Prometheus rule file strictly into the operator's rule groups (same field names).
func alertGroups(path string) ([]monitoringv1.RuleGroup, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(text, &file); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file.Groups, nil
}

// prometheusRule is alerts.yml wrapped in a PrometheusRule, so the file and the cluster's rules cannot drift.
func prometheusRule(alertsPath string) ([]byte, error) {
	groups, err := alertGroups(alertsPath)
	if err != nil {
		return nil, err
	}
	rule := monitoringv1.PrometheusRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: "monitoring.coreos.com/v1", Kind: "PrometheusRule"},
		ObjectMeta: metav1.ObjectMeta{Name: "sendonce"},
		Spec:       monitoringv1.PrometheusRuleSpec{Groups: groups},
	}
	out, err := yaml.Marshal(rule)
	if err != nil {
		return nil, err
	}
	header := "# Generated from deploy/prometheus/alerts.yml; do not edit. Regenerate with\n" +
		"#   go run ./scripts/kubernetes-validate -prometheus-rule deploy/prometheus/alerts.yml > deploy/kubernetes/prometheus-rule.yaml\n" +
		"# (test/unit/kubernetes.test.ts fails while they differ).\n"
	return append([]byte(header), out...), nil
}

// ruleMatches: the built PrometheusRule holds exactly alerts.yml's groups.
func ruleMatches(objects []object, alertsPath string) []string {
	want, err := alertGroups(alertsPath)
	if err != nil {
		return []string{err.Error()}
	}
	for _, o := range objects {
		if rule, ok := o.value.(*monitoringv1.PrometheusRule); ok {
			if !reflect.DeepEqual(rule.Spec.Groups, want) {
				return []string{fmt.Sprintf("PrometheusRule %s differs from %s: regenerate it (see its header)", o.name, alertsPath)}
			}
			return nil
		}
	}
	return []string{"no PrometheusRule to compare with " + alertsPath}
}
