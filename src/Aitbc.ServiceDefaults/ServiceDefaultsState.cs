namespace Aitbc.ServiceDefaults;

/// <summary>What <see cref="ServiceDefaultsExtensions.AddServiceDefaults"/> leaves in the container for the Use/Map steps.</summary>
internal sealed record ServiceDefaultsState(ServiceDefaultsOptions Options, Serilog.ILogger Logger);
