using Lipizzaner.Cli.Commands;

return await LipizzanerCommand.RunAsync(args);
