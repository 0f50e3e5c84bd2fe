using Lipizzaner.Coordinator.Extensions;

// The coordinator of a distributed run: settings and services in Extensions/CoordinatorServices.cs,
// routes in Extensions/CoordinatorEndpoints.cs.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCoordinator();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapCoordinatorApi();
app.Run();
