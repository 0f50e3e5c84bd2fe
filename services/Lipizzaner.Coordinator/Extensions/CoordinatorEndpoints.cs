using System.Text;
using Lipizzaner.Coordinator.Runs;
using Lipizzaner.Coordinator.Security;

namespace Lipizzaner.Coordinator.Extensions;

public static class CoordinatorEndpoints
{
    /// <summary>Largest run configuration accepted by <c>POST /runs</c>.</summary>
    public const int MaxConfigBytes = 1 << 20;

    /// <summary>
    /// Maps the run API under <c>/runs</c>. Reads are open; every POST requires the bearer token.
    /// </summary>
    public static WebApplication MapCoordinatorApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var runs = app.MapGroup("/runs").WithTags("Runs");

        runs.MapGet("/", (RunCoordinator coordinator) => Results.Ok(coordinator.List()))
            .WithSummary("Every run the coordinator knows, oldest first, with its state.");
        runs.MapGet("/current", (RunCoordinator coordinator) => ToResult(coordinator.Current()))
            .WithSummary("The run that is pending or running; 404 when none is. Workers started without a run id join it.");
        runs.MapGet("/{run}", (string run, RunCoordinator coordinator) => ToResult(coordinator.Get(run)))
            .WithSummary("The run's state, grid and cells.");
        runs.MapGet("/{run}/results", (string run, RunCoordinator coordinator) => ToResult(coordinator.Results(run)))
            .WithSummary("The best cell and its FID, once the run ended.");
        runs.MapGet("/{run}/config", (string run, RunCoordinator coordinator) =>
            {
                var reply = coordinator.ConfigText(run);
                return reply.Outcome == Outcome.Ok ? Results.Text(reply.Value!, "application/yaml", Encoding.UTF8) : ToResult(reply);
            })
            .WithSummary("The run's YAML configuration as it was submitted, for the workers to train with.");

        var mutating = runs.MapGroup("").AddEndpointFilter<BearerTokenFilter>();
        mutating.MapPost("/", CreateRun)
            .WithSummary("Creates a run from its YAML configuration (the request body, any content type).");
        mutating.MapPost("/{run}/resume", (string run, RunCoordinator coordinator) => ToResult(coordinator.Resume(run)))
            .WithSummary("Continues an aborted or failed run from its checkpoints with the workers that register now.");
        mutating.MapPost("/{run}/workers", (string run, WorkerRegistration body, RunCoordinator coordinator) =>
                ToResult(coordinator.Register(run, body)))
            .WithSummary("Registers a worker and the number of cells it can host.");
        mutating.MapPost("/{run}/leases", (string run, LeaseRequest body, RunCoordinator coordinator) =>
                ToResult(coordinator.Lease(run, body)))
            .WithSummary("Leases a free cell to the worker; 204 when none is free.");
        mutating.MapPost("/{run}/leases/{cell:int}/heartbeat", (string run, int cell, LeaseCall body, RunCoordinator coordinator) =>
                ToResult(coordinator.Heartbeat(run, cell, body)))
            .WithSummary("Renews the lease; 409 when the worker lost it.");
        mutating.MapPost("/{run}/leases/{cell:int}/progress", (string run, int cell, ProgressReport body, RunCoordinator coordinator) =>
                ToResult(coordinator.Progress(run, cell, body)))
            .WithSummary("Records the generations the cell finished; 409 when the worker lost the lease.");
        mutating.MapPost("/{run}/leases/{cell:int}/complete", (string run, int cell, CompletionReport body, RunCoordinator coordinator) =>
                ToResult(coordinator.Complete(run, cell, body)))
            .WithSummary("Marks the cell completed with its final FID; 409 when the worker lost the lease.");
        return app;
    }

    private static async Task<IResult> CreateRun(HttpRequest request, RunCoordinator coordinator)
    {
        if (request.ContentLength > MaxConfigBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"The configuration is larger than {MaxConfigBytes} bytes.");
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        char[] buffer = new char[MaxConfigBytes + 1];
        int read = await reader.ReadBlockAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (read > MaxConfigBytes)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"The configuration is larger than {MaxConfigBytes} characters.");
        }

        var reply = coordinator.Create(new string(buffer, 0, read));
        return reply.Outcome == Outcome.Ok
            ? Results.Created($"/runs/{reply.Value!.RunId}", reply.Value)
            : ToResult(reply);
    }

    private static IResult ToResult<T>(Reply<T> reply) => reply.Outcome switch
    {
        Outcome.Ok => Results.Ok(reply.Value),
        Outcome.NoContent => Results.NoContent(),
        Outcome.Invalid => Problem(StatusCodes.Status400BadRequest, reply.Problem),
        Outcome.NotFound => Problem(StatusCodes.Status404NotFound, reply.Problem),
        _ => Problem(StatusCodes.Status409Conflict, reply.Problem),
    };

    private static IResult Problem(int status, string? detail) => Results.Problem(detail: detail, statusCode: status);
}
