using Conec.Cli;

return await Commands.RunAsync(args);
