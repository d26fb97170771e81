using Shmap.Cli.Tests;

namespace Shmap.Tests;

/// <summary>The CLI tests' part of the shared <see cref="TestDirectory"/> (tests/Shmap.Tests/TestDirectory.cs).</summary>
public sealed partial class TestDirectory
{
    /// <summary>Runs the CLI with <c>--dir</c> set to this directory.</summary>
    public Task<CliResult> RunAsync(params string[] args) => CliRunner.RunAsync([.. args, "--dir", Path]);

    /// <summary>Same, with stdin.</summary>
    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => CliRunner.RunAsync([.. args, "--dir", Path], stdin);
}
