using Tollgate.Server.Hosting;

// The composition lives in TollgateApplication.Build, so the integration tests run exactly this app:
// builder.AddTollgate(); app.UseAdmission(); app.MapModelsApi(); app.MapAdminApi(); app.MapApiReference().
// TollgateProgram turns a failed start into one line per problem and exit code 2 (configuration) or 1.
return TollgateProgram.Run(args);

/// <summary>The server's entry point; public so tests can name the assembly.</summary>
public partial class Program;
