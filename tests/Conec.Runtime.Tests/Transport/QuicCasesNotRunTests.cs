using System.Reflection;
using Xunit.Sdk;
using Xunit.v3;

namespace Conec.Tests.Transport;

/// <summary>
/// Where libmsquic is missing, the QUIC cases are not generated at all (<see cref="TransportModesAttribute"/>,
/// <see cref="QuicFactAttribute"/>, <see cref="QuicTheoryAttribute"/>); this one skipped test says so, with how many
/// did not run, instead of every case printing the same skip. CI reads the count from its message.
/// </summary>
public sealed class QuicCasesNotRunTests
{
    /// <summary>The reason, as every QUIC case gave it when each skipped on its own.</summary>
    public const string Reason = "QUIC needs libmsquic, which this machine does not have (QuicListener.IsSupported is false)";

    [QuicMissingFact]
    public async Task Quic_test_cases_did_not_run()
    {
        var count = await CountAsync();
        Assert.True(count > 0, "No QUIC test case was found; the count no longer sees the attributes that mark them.");
        Assert.Skip($"{Reason}; {count} QUIC test cases did not run.");
    }

    /// <summary>The QUIC cases of this assembly where libmsquic exists: one row per transport theory, every QUIC fact, every row of every QUIC theory.</summary>
    private static async Task<int> CountAsync()
    {
        var count = 0;
        var methods = typeof(QuicCasesNotRunTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly));
        foreach (var method in methods)
        {
            if (method.GetCustomAttribute<TransportModesAttribute>() is not null)
            {
                count += TransportModesAttribute.QuicRows;
            }
            else if (method.GetCustomAttribute<QuicFactAttribute>() is not null)
            {
                count++;
            }
            else if (method.GetCustomAttribute<QuicTheoryAttribute>() is not null)
            {
                await using var tracker = new DisposalTracker();
                foreach (var data in method.GetCustomAttributes<DataAttribute>())
                {
                    count += (await data.GetData(method, tracker)).Count;
                }
            }
        }

        return count;
    }
}
