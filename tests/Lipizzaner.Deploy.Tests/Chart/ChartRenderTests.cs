using System.Text;
using Lipizzaner.Deploy.Tests.Support;

namespace Lipizzaner.Deploy.Tests.Chart;

/// <summary>
/// The Helm chart charts/lipizzaner, rendered by tests/chart-render (not by helm, which cannot be
/// installed on the build machines) and checked object by object.
/// </summary>
public sealed class ChartRenderTests
{
    private const string Gpu = "nvidia.com/gpu";

    [Fact]
    public async Task Defaults_render_every_component()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        chart.Get("Deployment", "-coordinator");
        chart.Get("Service", "-coordinator");
        chart.Get("StatefulSet", "-worker");
        chart.Get("StatefulSet", "-redis");
        chart.Get("StatefulSet", "-minio");
        chart.Get("Secret", "-credentials");
        chart.Get("ConfigMap", "-run");
        chart.Get("Job", "-submit");
        Assert.Equal(4, chart.OfKind("NetworkPolicy").Count());
        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.All(chart.Objects, item => Assert.Equal(ChartRenderer.ReleaseName, LabelOf(item, "app.kubernetes.io/instance")));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    public async Task Worker_gpu_limit_equals_request(int gpus, int cellsPerWorker)
    {
        // A GPU count in the resources from values is replaced, never added to.
        var chart = await ChartRenderer.RenderValidAsync($$"""
            workers:
              gpusPerWorker: {{gpus}}
              cellsPerWorker: {{cellsPerWorker}}
              resources:
                requests: { cpu: "1", {{Gpu}}: 7 }
                limits: { memory: 2Gi, {{Gpu}}: 9 }
            """);

        var worker = Assert.Single(chart.Get("StatefulSet", "-worker").Containers);
        string expected = gpus.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, Node.Key(worker, "resources.limits", Gpu));
        Assert.Equal(expected, Node.Key(worker, "resources.requests", Gpu));
        Assert.Equal("2Gi", Node.At(worker, "resources.limits.memory"));
        Assert.Equal("1", Node.At(worker, "resources.requests.cpu"));
        Assert.Equal($"{cellsPerWorker}", Value(worker, "Lipizzaner__Worker__Capacity"));
        Assert.Equal("true", Value(worker, "Lipizzaner__Worker__RequireGpu"));
        Assert.EndsWith("-cuda", (string)worker["image"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gpu_only_on_worker_pods()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        var pods = chart.Objects.Where(item => item.PodSpec is not null).ToList();
        Assert.Equal(6, pods.Count);
        foreach (var pod in pods.Where(item => !item.Name.EndsWith("-worker", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain(Gpu, pod.Text, StringComparison.Ordinal);
            Assert.All(pod.Containers, container => Assert.Null(Node.Key(container, "resources.limits", Gpu)));
        }
    }

    [Fact]
    public async Task Cpu_workers_have_no_gpu()
    {
        var chart = await ChartRenderer.RenderValidAsync("workers: { gpusPerWorker: 0 }");

        var worker = chart.Get("StatefulSet", "-worker");
        Assert.DoesNotContain(Gpu, worker.Text, StringComparison.Ordinal);
        var container = Assert.Single(worker.Containers);
        Assert.Equal("false", Value(container, "Lipizzaner__Worker__RequireGpu"));
        Assert.Equal("lipizzaner/cellworker:0.1.0-cpu", container["image"]);
    }

    [Fact]
    public async Task Secret_values_only_in_secrets()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        var secret = chart.Get("Secret", "-credentials");
        var data = (Dictionary<object, object>)secret.At("data")!;
        Assert.Equal(["access-key", "redis-password", "secret-key", "token"], data.Keys.Cast<string>().Order(StringComparer.Ordinal));
        var values = data.Values.Cast<string>().Select(encoded => Encoding.UTF8.GetString(Convert.FromBase64String(encoded))).ToList();
        Assert.All(values, value => Assert.True(value.Length >= 16, $"generated secret of {value.Length} characters"));
        foreach (var item in chart.Objects.Where(item => item.Kind != "Secret"))
        {
            foreach (string value in values.Concat(data.Values.Cast<string>()))
            {
                Assert.False(item.Text.Contains(value, StringComparison.Ordinal), $"{item} contains a secret value");
            }
        }
    }

    [Fact]
    public async Task Credentials_come_from_secret_references()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        var coordinator = Assert.Single(chart.Get("Deployment", "-coordinator").Containers);
        var worker = Assert.Single(chart.Get("StatefulSet", "-worker").Containers);
        foreach (var (container, name) in new[] { (coordinator, "Lipizzaner__Token"), (worker, "Lipizzaner__Token"), (worker, "LIPIZZANER_REDIS_PASSWORD"), (worker, "LIPIZZANER_S3_SECRET_KEY") })
        {
            var entry = Node.EnvEntry(container, name);
            Assert.NotNull(entry);
            Assert.Equal("lpz-lipizzaner-credentials", Node.At(entry, "valueFrom.secretKeyRef.name"));
        }

        Assert.Equal("lpz-lipizzaner-redis:6379,password=$(LIPIZZANER_REDIS_PASSWORD),abortConnect=false", Value(worker, "ConnectionStrings__redis"));
        Assert.Equal(
            "Endpoint=http://lpz-lipizzaner-minio:9000;AccessKey=$(LIPIZZANER_S3_ACCESS_KEY);SecretKey=$(LIPIZZANER_S3_SECRET_KEY)",
            Value(worker, "ConnectionStrings__minio"));
        // Kubernetes expands $(NAME) only from variables defined earlier in the list.
        var names = Node.List(worker, "env").Cast<Dictionary<object, object>>().Select(entry => (string)entry["name"]).ToList();
        Assert.True(names.IndexOf("LIPIZZANER_REDIS_PASSWORD") < names.IndexOf("ConnectionStrings__redis"));
        Assert.True(names.IndexOf("LIPIZZANER_S3_SECRET_KEY") < names.IndexOf("ConnectionStrings__minio"));
    }

    [Fact]
    public async Task Existing_secrets_replace_generated_ones()
    {
        var chart = await ChartRenderer.RenderValidAsync("""
            auth: { existingSecret: site-token }
            redis: { auth: { existingSecret: site-redis } }
            minio: { auth: { existingSecret: site-s3 } }
            """);

        Assert.Empty(chart.OfKind("Secret"));
        var worker = Assert.Single(chart.Get("StatefulSet", "-worker").Containers);
        Assert.Equal("site-token", Node.At(Node.EnvEntry(worker, "Lipizzaner__Token"), "valueFrom.secretKeyRef.name"));
        Assert.Equal("site-redis", Node.At(Node.EnvEntry(worker, "LIPIZZANER_REDIS_PASSWORD"), "valueFrom.secretKeyRef.name"));
        Assert.Equal("site-s3", Node.At(Node.EnvEntry(worker, "LIPIZZANER_S3_ACCESS_KEY"), "valueFrom.secretKeyRef.name"));
        var redis = Assert.Single(chart.Get("StatefulSet", "-redis").Containers);
        Assert.Equal("site-redis", Node.At(Node.EnvEntry(redis, "REDIS_PASSWORD"), "valueFrom.secretKeyRef.name"));
    }

    [Fact]
    public async Task Probes_on_alive_and_health()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        foreach (var workload in new[] { chart.Get("Deployment", "-coordinator"), chart.Get("StatefulSet", "-worker") })
        {
            var container = Assert.Single(workload.Containers);
            Assert.Equal("/alive", Node.At(container, "livenessProbe.httpGet.path"));
            Assert.Equal("/health", Node.At(container, "readinessProbe.httpGet.path"));
            Assert.Equal("/alive", Node.At(container, "startupProbe.httpGet.path"));
            Assert.Equal("http", Node.At(container, "livenessProbe.httpGet.port"));
            Assert.Contains(Node.List(container, "ports").Cast<Dictionary<object, object>>(), port => (string)port["name"] == "http");
        }

        Assert.NotNull(Node.At(Assert.Single(chart.Get("StatefulSet", "-redis").Containers), "readinessProbe.exec"));
        Assert.Equal("/minio/health/ready", Node.At(Assert.Single(chart.Get("StatefulSet", "-minio").Containers), "readinessProbe.httpGet.path"));
    }

    [Fact]
    public async Task Pods_run_non_root_read_only()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        foreach (var pod in chart.Objects.Where(item => item.PodSpec is not null))
        {
            Assert.Equal("true", Node.At(pod.PodSpec, "securityContext.runAsNonRoot"));
            Assert.Equal("false", Node.At(pod.PodSpec, "automountServiceAccountToken"));
            Assert.All(pod.Containers, container =>
            {
                Assert.Equal("true", Node.At(container, "securityContext.readOnlyRootFilesystem"));
                Assert.Equal("false", Node.At(container, "securityContext.allowPrivilegeEscalation"));
                Assert.NotNull(Node.At(container, "resources.requests.memory"));
                Assert.NotNull(Node.At(container, "resources.limits.memory"));
            });
        }
    }

    [Fact]
    public async Task Services_select_their_pods()
    {
        var chart = await ChartRenderer.RenderValidAsync();

        foreach (var service in chart.OfKind("Service"))
        {
            var selector = (Dictionary<object, object>)service.At("spec.selector")!;
            var targets = chart.Objects.Where(item => item.Kind is "Deployment" or "StatefulSet"
                && selector.All(pair => (string?)Node.Key(item.Content, "spec.template.metadata.labels", (string)pair.Key) == (string)pair.Value)).ToList();
            Assert.True(targets.Count == 1, $"{service} selects {targets.Count} workloads");
            var ports = targets[0].Containers.SelectMany(container => Node.List(container, "ports")).Cast<Dictionary<object, object>>().Select(port => (string)port["name"]);
            Assert.All(Node.List(service.Content, "spec.ports").Cast<Dictionary<object, object>>(), port => Assert.Contains((string)port["targetPort"], ports));
        }
    }

    [Fact]
    public async Task Workers_reach_coordinator_and_grid()
    {
        var chart = await ChartRenderer.RenderValidAsync("workers: { replicas: 6, cellsPerWorker: 2 }");

        var worker = Assert.Single(chart.Get("StatefulSet", "-worker").Containers);
        var service = chart.Get("Service", "-coordinator");
        Assert.Equal($"http://{service.Name}:{Node.At(Node.List(service.Content, "spec.ports").First(), "port")}", Value(worker, "Lipizzaner__Coordinator"));
        Assert.Equal("6", chart.Get("StatefulSet", "-worker").At("spec.replicas"));
        Assert.Equal("Parallel", chart.Get("StatefulSet", "-worker").At("spec.podManagementPolicy"));
        var coordinator = Assert.Single(chart.Get("Deployment", "-coordinator").Containers);
        Assert.Equal("12", Value(coordinator, "Lipizzaner__Distribution__MinClients"));
        Assert.Equal("12", Value(coordinator, "Lipizzaner__Distribution__MaxClients"));
        Assert.Equal("metadata.name", Node.At(Node.EnvEntry(worker, "Lipizzaner__Worker__Id"), "valueFrom.fieldRef.fieldPath"));
    }

    [Fact]
    public async Task Run_config_in_config_map()
    {
        var chart = await ChartRenderer.RenderValidAsync("""
            run:
              config: |
                grid: { width: 3, height: 3 }
                trainer: { n_iterations: 7 }
            """);

        var configMap = chart.Get("ConfigMap", "-run");
        Assert.Equal("grid: { width: 3, height: 3 }\ntrainer: { n_iterations: 7 }", ((string)Node.Key(configMap.Content, "data", "run.yml")!).TrimEnd());
        Assert.Contains("min_clients: 1", (string)Node.Key(configMap.Content, "data", "test-run.yml")!, StringComparison.Ordinal);
        var submit = chart.Get("Job", "-submit");
        Assert.Equal("post-install", Node.Key(submit.Content, "metadata.annotations", "helm.sh/hook"));
        Assert.Contains("lipizzaner submit -f /etc/lipizzaner/run.yml", Node.List(submit.Containers.Single(), "args").Cast<string>().Single(), StringComparison.Ordinal);
        Assert.Equal(configMap.Name, Node.At(Node.List(submit.PodSpec, "volumes").Cast<Dictionary<object, object>>().Single(volume => (string)volume["name"] == "run-config"), "configMap.name"));
    }

    [Fact]
    public async Task Helm_test_submits_tiny_run()
    {
        var chart = await ChartRenderer.RenderValidAsync("tests: { timeoutSeconds: 300 }");

        var test = chart.Get("Pod", "-test-run");
        Assert.Equal("test", Node.Key(test.Content, "metadata.annotations", "helm.sh/hook"));
        Assert.Equal("Never", Node.At(test.PodSpec, "restartPolicy"));
        string script = Node.List(test.Containers.Single(), "args").Cast<string>().Single();
        Assert.Contains("lipizzaner submit -f /etc/lipizzaner/test-run.yml", script, StringComparison.Ordinal);
        Assert.Contains("deadline=$((SECONDS + 300))", script, StringComparison.Ordinal);
        Assert.Contains("completed) echo \"run $run completed\"", script, StringComparison.Ordinal);
        Assert.Equal("lpz-lipizzaner-credentials", Node.At(Node.EnvEntry(test.Containers.Single(), "LIPIZZANER_TOKEN"), "valueFrom.secretKeyRef.name"));
    }

    [Fact]
    public async Task Folder_checkpoints_mount_claim()
    {
        var chart = await ChartRenderer.RenderValidAsync("checkpoints: { store: folder, folder: { existingClaim: shared-ckpt } }");

        Assert.DoesNotContain(chart.Objects, item => item.Name.EndsWith("-minio", StringComparison.Ordinal));
        var worker = chart.Get("StatefulSet", "-worker");
        var container = Assert.Single(worker.Containers);
        Assert.Null(Node.EnvEntry(container, "ConnectionStrings__minio"));
        Assert.Equal("/checkpoints", Value(container, "Lipizzaner__Worker__CheckpointFolder"));
        var volume = Node.List(worker.PodSpec, "volumes").Cast<Dictionary<object, object>>().Single(entry => (string)entry["name"] == "checkpoints");
        Assert.Equal("shared-ckpt", Node.At(volume, "persistentVolumeClaim.claimName"));
        Assert.DoesNotContain("access-key", chart.Get("Secret", "-credentials").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Folder_checkpoints_need_claim()
    {
        var chart = await ChartRenderer.RenderAsync("checkpoints: { store: folder }");

        Assert.Equal(3, chart.ExitCode);
        Assert.Contains("checkpoints.folder.existingClaim", chart.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task External_redis_needs_secret()
    {
        var missing = await ChartRenderer.RenderAsync("redis: { enabled: false, external: { host: redis.site } }");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("redis.auth.existingSecret", missing.Error, StringComparison.Ordinal);

        var chart = await ChartRenderer.RenderValidAsync("""
            redis: { enabled: false, external: { host: redis.site, port: 6380, ssl: true }, auth: { existingSecret: site-redis } }
            minio: { enabled: false, external: { endpoint: "https://s3.site" }, auth: { existingSecret: site-s3 } }
            """);
        Assert.DoesNotContain(chart.Objects, item => item.Name.EndsWith("-redis", StringComparison.Ordinal) || item.Name.EndsWith("-minio", StringComparison.Ordinal));
        var worker = Assert.Single(chart.Get("StatefulSet", "-worker").Containers);
        Assert.Equal("redis.site:6380,password=$(LIPIZZANER_REDIS_PASSWORD),ssl=true,abortConnect=false", Value(worker, "ConnectionStrings__redis"));
        Assert.StartsWith("Endpoint=https://s3.site;", Value(worker, "ConnectionStrings__minio"), StringComparison.Ordinal);
        Assert.Equal(2, chart.OfKind("NetworkPolicy").Count());
    }

    [Fact]
    public async Task Service_monitor_selects_services()
    {
        var chart = await ChartRenderer.RenderValidAsync("metrics: { serviceMonitor: { enabled: true, labels: { release: prometheus } } }");

        var monitor = Assert.Single(chart.OfKind("ServiceMonitor"));
        Assert.Equal("prometheus", LabelOf(monitor, "release"));
        var selector = (Dictionary<object, object>)monitor.At("spec.selector.matchLabels")!;
        var selected = chart.OfKind("Service").Where(service => selector.All(pair => LabelOf(service, (string)pair.Key) == (string)pair.Value)).Select(service => service.Name).Order(StringComparer.Ordinal);
        Assert.Equal(["lpz-lipizzaner-coordinator", "lpz-lipizzaner-worker"], selected);
        Assert.Equal("/metrics", Node.At(Node.List(monitor.Content, "spec.endpoints").First(), "path"));
    }

    [Fact]
    public async Task Network_policies_admit_only_clients()
    {
        var chart = await ChartRenderer.RenderValidAsync("networkPolicy: { metricsFrom: [ { namespaceSelector: { matchLabels: { name: monitoring } } } ] }");

        var redis = chart.Get("NetworkPolicy", "-redis");
        var peers = Node.List(Node.List(redis.Content, "spec.ingress").Single(), "from").Select(ComponentOf);
        Assert.Equal(["coordinator", "worker"], peers.Cast<string>().Order(StringComparer.Ordinal));
        var worker = chart.Get("NetworkPolicy", "-worker");
        Assert.Equal("monitoring", Node.At(Node.List(Node.List(worker.Content, "spec.ingress").Single(), "from").Single(), "namespaceSelector.matchLabels.name"));
        var minio = chart.Get("NetworkPolicy", "-minio");
        Assert.Equal("worker", ComponentOf(Node.List(Node.List(minio.Content, "spec.ingress").Single(), "from").Single()));
    }

    [Theory]
    [InlineData("workers: { gpusPerWorker: -1 }", "workers.gpusPerWorker")]
    [InlineData("workers: { replicas: 0 }", "workers.replicas")]
    [InlineData("workers: { gpu: 1 }", "gpu")]
    [InlineData("checkpoints: { store: tape }", "checkpoints.store")]
    [InlineData("coordinator: { distribution: { finishProportion: 1.5 } }", "coordinator.distribution.finishProportion")]
    [InlineData("coordinator: { distribution: { leaseDuration: 1 minute } }", "coordinator.distribution.leaseDuration")]
    [InlineData("redis: { image: { tag: \"\" } }", "redis.image.tag")]
    [InlineData("workers: { runId: \"run/1\" }", "workers.runId")]
    public async Task Schema_rejects_bad_value(string values, string key)
    {
        var chart = await ChartRenderer.RenderAsync(values);

        Assert.Equal(2, chart.ExitCode);
        Assert.Contains(key, chart.Error, StringComparison.Ordinal);
        Assert.Empty(chart.Objects);
    }

    [Fact]
    public async Task Schema_accepts_documented_examples()
    {
        var chart = await ChartRenderer.RenderAsync("""
            image: { registry: registry.example.org/ml, tag: "1.2.3", pullSecrets: [regcred] }
            workers:
              replicas: 8
              gpusPerWorker: 1
              requireGpu: false
              tolerations: [ { key: nvidia.com/gpu, operator: Exists, effect: NoSchedule } ]
              nodeSelector: { nvidia.com/gpu.present: "true" }
            coordinator: { distribution: { minClients: 4, leaseDuration: "00:02:00" } }
            """);

        Assert.True(chart.ExitCode == 0, chart.Error);
        var worker = chart.Get("StatefulSet", "-worker");
        Assert.Equal("registry.example.org/ml/lipizzaner/cellworker:1.2.3-cuda", worker.Containers.Single()["image"]);
        Assert.Equal("regcred", Node.At(Node.List(worker.PodSpec, "imagePullSecrets").Single(), "name"));
        Assert.Equal("Exists", Node.At(Node.List(worker.PodSpec, "tolerations").Single(), "operator"));
        Assert.Equal("false", Value(worker.Containers.Single(), "Lipizzaner__Worker__RequireGpu"));
    }

    private static string? Value(Dictionary<object, object> container, string name) => (string?)Node.At(Node.EnvEntry(container, name), "value");

    private static string? LabelOf(RenderedObject item, string label) => (string?)Node.Key(item.Content, "metadata.labels", label);

    private static string? ComponentOf(object peer) => (string?)Node.Key(peer, "podSelector.matchLabels", "app.kubernetes.io/component");
}
