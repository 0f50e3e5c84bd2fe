// Command chart-render renders a Helm chart's templates the way `helm template` does, for tests on
// machines where the helm binary is not available. It uses Go's text/template with the sprig
// function library (the one Helm uses), validates the merged values against values.schema.json
// with gojsonschema (the validator of Helm 3 up to 3.17) and implements the Helm built-ins that
// charts/lipizzaner uses: .Values, .Release, .Chart, .Template, .Capabilities (fixed), include,
// tpl, required, toYaml, fromYaml, toJson, fromJson and lookup (always empty, as in helm template).
//
// Usage:
//
//	chart-render -chart DIR [-values FILE]... [-set-string key.path=value]... [-release NAME] [-namespace NS] [-notes]
//
// The output is a multi-document YAML stream, one document per rendered file with a
// "# Source: CHART/templates/FILE" comment, like helm template. Exit status 2 marks invalid
// values, 3 a template error, 1 a usage or file error.
//
// Build offline against Debian's packaged sources (golang-github-masterminds-sprig-dev,
// golang-gopkg-yaml.v3-dev, golang-github-xeipuuv-gojsonschema-dev), as the tests do:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o chart-render .
//
// Debian installs sprig v3 without the /v3 suffix, hence the import path below.
//
// NOTE: this is not Helm. Helm's chart dependencies, .Files, the Capabilities of a live cluster and
// post-rendering are not implemented, and YAML output may differ in layout (not content) from
// Helm's sigs.k8s.io/yaml.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"gopkg.in/yaml.v3"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	chartDir := flag.String("chart", "", "chart folder (contains Chart.yaml)")
	release := flag.String("release", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	notes := flag.Bool("notes", false, "also render templates/NOTES.txt")
	var valueFiles, setStrings stringList
	flag.Var(&valueFiles, "values", "values file merged over values.yaml (repeatable)")
	flag.Var(&setStrings, "set-string", "key.path=value set as a string after the files (repeatable)")
	flag.Parse()
	if *chartDir == "" {
		fmt.Fprintln(os.Stderr, "error: -chart DIR is required")
		os.Exit(1)
	}

	values, chart, err := loadValues(*chartDir, valueFiles, setStrings)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if problems, err := validate(*chartDir, values); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	} else if len(problems) > 0 {
		fmt.Fprintln(os.Stderr, "error: values don't meet the specifications of the schema(s) in the following chart(s):")
		fmt.Fprintf(os.Stderr, "%s:\n", chart["Name"])
		for _, problem := range problems {
			fmt.Fprintln(os.Stderr, "-", problem)
		}
		os.Exit(2)
	}

	output, err := render(*chartDir, chart, values, *release, *namespace, *notes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(3)
	}
	fmt.Print(output)
}

// loadValues reads Chart.yaml and merges values.yaml, each -values file and each -set-string.
// Values pass through JSON, as in Helm, so every number is a float64.
func loadValues(chartDir string, files, setStrings []string) (map[string]interface{}, map[string]interface{}, error) {
	var metadata map[string]interface{}
	if err := readYAML(filepath.Join(chartDir, "Chart.yaml"), &metadata); err != nil {
		return nil, nil, err
	}
	chart := map[string]interface{}{}
	for key, value := range metadata {
		// Helm exposes Chart.yaml's keys with an upper-case first letter (.Chart.Name, .Chart.AppVersion).
		chart[strings.ToUpper(key[:1])+key[1:]] = value
	}

	values := map[string]interface{}{}
	if err := readYAML(filepath.Join(chartDir, "values.yaml"), &values); err != nil {
		return nil, nil, err
	}
	for _, file := range files {
		override := map[string]interface{}{}
		if err := readYAML(file, &override); err != nil {
			return nil, nil, err
		}
		values = merge(values, override)
	}
	for _, assignment := range setStrings {
		key, value, found := strings.Cut(assignment, "=")
		if !found {
			return nil, nil, fmt.Errorf("-set-string %q is not key.path=value", assignment)
		}
		setPath(values, strings.Split(key, "."), value)
	}

	var normalised map[string]interface{}
	encoded, err := json.Marshal(values)
	if err != nil {
		return nil, nil, err
	}
	if err := json.Unmarshal(encoded, &normalised); err != nil {
		return nil, nil, err
	}
	return normalised, chart, nil
}

func readYAML(path string, target interface{}) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(data, target); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// merge returns base with override's keys applied recursively; a null in override deletes the key,
// as Helm's value coalescing does.
func merge(base, override map[string]interface{}) map[string]interface{} {
	for key, value := range override {
		if value == nil {
			delete(base, key)
			continue
		}
		overrideMap, overrideIsMap := value.(map[string]interface{})
		baseMap, baseIsMap := base[key].(map[string]interface{})
		if overrideIsMap && baseIsMap {
			base[key] = merge(baseMap, overrideMap)
		} else {
			base[key] = value
		}
	}
	return base
}

func setPath(values map[string]interface{}, path []string, value string) {
	for _, key := range path[:len(path)-1] {
		next, ok := values[key].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			values[key] = next
		}
		values = next
	}
	values[path[len(path)-1]] = value
}

// validate checks the merged values against values.schema.json, when the chart has one.
func validate(chartDir string, values map[string]interface{}) ([]string, error) {
	schemaPath := filepath.Join(chartDir, "values.schema.json")
	schema, err := os.ReadFile(schemaPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", schemaPath, err)
	}
	var problems []string
	for _, problem := range result.Errors() {
		problems = append(problems, problem.String())
	}
	return problems, nil
}

func render(chartDir string, chart, values map[string]interface{}, release, namespace string, withNotes bool) (string, error) {
	templatesDir := filepath.Join(chartDir, "templates")
	var files []string
	err := filepath.Walk(templatesDir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !info.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".tpl") || strings.HasSuffix(path, ".txt")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)

	chartName := fmt.Sprint(chart["Name"])
	root := template.New(chartName)
	root.Funcs(functions(root))
	// Helm renders missing keys as empty, then strips the "<no value>" text/template writes for them.
	root.Option("missingkey=zero")
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		relative, _ := filepath.Rel(chartDir, file)
		if _, err := root.New(chartName + "/" + filepath.ToSlash(relative)).Parse(string(text)); err != nil {
			return "", err
		}
	}

	base := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Release": map[string]interface{}{
			"Name": release, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": "v1.29.0", "Major": "1", "Minor": "29"},
		},
	}

	var out strings.Builder
	for _, file := range files {
		relative, _ := filepath.Rel(chartDir, file)
		relative = filepath.ToSlash(relative)
		name := filepath.Base(relative)
		if strings.HasPrefix(name, "_") || (name == "NOTES.txt" && !withNotes) {
			continue
		}
		context := map[string]interface{}{}
		for key, value := range base {
			context[key] = value
		}
		context["Template"] = map[string]interface{}{"Name": chartName + "/" + relative, "BasePath": chartName + "/templates"}
		var buffer bytes.Buffer
		if err := root.ExecuteTemplate(&buffer, chartName+"/"+relative, context); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buffer.String(), "<no value>", "")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fmt.Fprintf(&out, "---\n# Source: %s/%s\n%s\n", chartName, relative, strings.TrimSpace(text))
	}
	return out.String(), nil
}

// functions returns sprig's functions without env and expandenv (Helm removes them) plus Helm's own.
func functions(root *template.Template) template.FuncMap {
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")

	funcs["toYaml"] = func(value interface{}) string {
		var buffer bytes.Buffer
		encoder := yaml.NewEncoder(&buffer)
		encoder.SetIndent(2)
		if err := encoder.Encode(value); err != nil {
			return ""
		}
		return strings.TrimSuffix(buffer.String(), "\n")
	}
	funcs["fromYaml"] = func(text string) map[string]interface{} {
		result := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(text), &result); err != nil {
			result["Error"] = err.Error()
		}
		return result
	}
	funcs["toJson"] = func(value interface{}) string {
		data, err := json.Marshal(value)
		if err != nil {
			return ""
		}
		return string(data)
	}
	funcs["fromJson"] = func(text string) map[string]interface{} {
		result := map[string]interface{}{}
		if err := json.Unmarshal([]byte(text), &result); err != nil {
			result["Error"] = err.Error()
		}
		return result
	}
	funcs["required"] = func(message string, value interface{}) (interface{}, error) {
		if value == nil {
			return nil, errors.New(message)
		}
		if text, ok := value.(string); ok && text == "" {
			return nil, errors.New(message)
		}
		return value, nil
	}
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buffer bytes.Buffer
		if err := root.ExecuteTemplate(&buffer, name, data); err != nil {
			return "", err
		}
		return buffer.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := root.Clone()
		if err != nil {
			return "", err
		}
		parsed, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buffer bytes.Buffer
		if err := parsed.Execute(&buffer, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buffer.String(), "<no value>", ""), nil
	}
	// helm template has no cluster to ask, so lookup returns an empty map, as it does there.
	funcs["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	return funcs
}
