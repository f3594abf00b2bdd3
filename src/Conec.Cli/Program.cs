using Conec.Cli;

return await Commands.Build().Parse(args).InvokeAsync();
