using System.Globalization;

namespace Aitbc.Coordinator.Http;

/// <summary>
/// Non-negative decimal integers in query values and cursors: ASCII digits only. <c>int.TryParse</c> with
/// <see cref="NumberStyles.None"/> alone still takes trailing NULs ("1\0" is 1).
/// </summary>
public static class QueryNumbers
{
    public static bool TryParse(ReadOnlySpan<char> text, out int value)
    {
        value = 0;
        return !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9') && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryParse(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        return !text.IsEmpty && !text.ContainsAnyExceptInRange('0', '9') && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
