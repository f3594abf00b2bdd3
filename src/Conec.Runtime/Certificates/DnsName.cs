namespace Conec.Certificates;

/// <summary>
/// The DNS-name rule for client ids and host names (RFC 1123 labels): ids travel as TLS server names and as
/// subject alternative names, so they must be valid there.
/// </summary>
internal static class DnsName
{
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
