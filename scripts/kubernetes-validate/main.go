// kubernetes-validate checks deploy/kubernetes without a cluster: it builds the kustomization with kustomize's own
// library (what `kubectl apply -k` runs), decodes every object strictly into the official Go types (k8s.io/api,
// prometheus-operator's monitoring/v1), failing on unknown or misspelt fields, and then checks what matters for
// sendonce (checks.go). Run by test/unit/kubernetes.test.ts, which builds it once per source hash.
//
//	kubernetes-validate [-alerts deploy/prometheus/alerts.yml] [-json] deploy/kubernetes
//	kubernetes-validate -prometheus-rule deploy/prometheus/alerts.yml > deploy/kubernetes/prometheus-rule.yaml
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The kinds sendonce deploys, each with the Go type it must decode into. Anything else is an error: a kind
// without a type here would not be checked at all.
var types = map[string]func() any{
	"v1/ConfigMap":                        func() any { return &corev1.ConfigMap{} },
	"v1/Service":                          func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                  func() any { return &appsv1.Deployment{} },
	"batch/v1/Job":                        func() any { return &batchv1.Job{} },
	"policy/v1/PodDisruptionBudget":       func() any { return &policyv1.PodDisruptionBudget{} },
	"monitoring.coreos.com/v1/PodMonitor": func() any { return &monitoringv1.PodMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule": func() any {
		return &monitoringv1.PrometheusRule{}
	},
}

func main() {
	alerts := flag.String("alerts", "", "alerts.yml the PrometheusRule must equal (skipped when empty)")
	printRule := flag.String("prometheus-rule", "", "print the PrometheusRule generated from this alerts.yml and exit")
	dump := flag.Bool("json", false, "print the built objects as a JSON array (for the tests' compose comparisons)")
	flag.Parse()
	if *printRule != "" {
		out, err := prometheusRule(*printRule)
		exitOn(err)
		fmt.Print(string(out))
		return
	}
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: kubernetes-validate [-alerts alerts.yml] [-json] <kustomization dir>")
		os.Exit(2)
	}
	objects, raw, err := build(flag.Arg(0))
	exitOn(err)
	problems := check(objects)
	if *alerts != "" {
		problems = append(problems, ruleMatches(objects, *alerts)...)
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(os.Stderr, "kubernetes-validate:", p)
		}
		os.Exit(1)
	}
	if *dump {
		out, err := json.Marshal(raw)
		exitOn(err)
		fmt.Println(string(out))
		return
	}
	for _, o := range objects {
		fmt.Printf("ok %s %s\n", o.kind, o.name)
	}
}

type object struct {
	kind, name string
	value      any
}

// build runs kustomize on dir and decodes each resulting object strictly into its type.
func build(dir string) ([]object, []any, error) {
	resources, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var objects []object
	var raw []any
	var problems []string
	for _, r := range resources.Resources() {
		gvk := r.GetGvk()
		key := gvk.ApiVersion() + "/" + gvk.Kind
		name := r.GetName()
		text, err := r.AsYAML()
		if err != nil {
			return nil, nil, err
		}
		newValue, known := types[key]
		if !known {
			problems = append(problems, fmt.Sprintf("%s %s: no Go type for this kind here (add it to types in main.go)", key, name))
			continue
		}
		value := newValue()
		// UnmarshalStrict: an unknown field (a misspelling, a field at the wrong level) or a duplicate key is an error.
		if err := yaml.UnmarshalStrict(text, value); err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", gvk.Kind, name, err))
			continue
		}
		var generic any
		if err := yaml.Unmarshal(text, &generic); err != nil {
			return nil, nil, err
		}
		objects = append(objects, object{kind: gvk.Kind, name: name, value: value})
		raw = append(raw, generic)
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("%s", strings.Join(problems, "\nkubernetes-validate: "))
	}
	return objects, raw, nil
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "kubernetes-validate:", err)
		os.Exit(1)
	}
}
