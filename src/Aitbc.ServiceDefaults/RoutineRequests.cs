namespace Aitbc.ServiceDefaults;

/// <summary>Endpoint metadata: see <see cref="RequestLogging.Routine{TBuilder}"/>.</summary>
public sealed record RoutineRequests;
