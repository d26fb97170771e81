namespace Shmap.Nats.Tests;

/// <summary>
/// A test that needs <c>nats-server</c>: skipped with the reason when it is missing, except under
/// CI (<c>CI=true</c>), where it runs and fails, so a missing install step cannot pass unnoticed.
/// </summary>
public sealed class NatsFactAttribute : FactAttribute
{
    public const string MissingMessage = "nats-server is not installed (apt-get install -y nats-server); .ci/run installs it.";

    public NatsFactAttribute()
    {
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        if (NatsServer.Executable is null && !ci)
        {
            Skip = MissingMessage + " Under CI=true this test fails instead.";
        }
    }
}
