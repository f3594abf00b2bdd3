using System.Text;

namespace Conec.Generators.Emit;

/// <summary>Writes indented C# lines with LF endings, so generated files are identical on every machine.</summary>
internal sealed class SourceWriter
{
    /// <summary>The width past which <see cref="List"/> breaks a line.</summary>
    public const int Width = 120;

    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _indent * 4);
        }

        _text.Append(line).Append('\n');
        return this;
    }

    public SourceWriter Open(string line)
    {
        Line(line);
        Line("{");
        _indent++;
        return this;
    }

    public SourceWriter Close(string suffix = "")
    {
        _indent--;
        return Line("}" + suffix);
    }

    /// <summary>
    /// Writes <paramref name="start"/>, the items separated by commas and <paramref name="end"/> on one line when it
    /// fits in <see cref="Width"/> columns, else one item a line under the start (a call with long arguments).
    /// </summary>
    public SourceWriter List(string start, System.Collections.Generic.IReadOnlyList<string> items, string end)
    {
        var single = start + string.Join(", ", items) + end;
        if (items.Count == 0 || Fits(single))
        {
            return Line(single);
        }

        Line(start);
        _indent++;
        for (var i = 0; i < items.Count; i++)
        {
            Line(items[i] + (i < items.Count - 1 ? "," : end));
        }

        _indent--;
        return this;
    }

    /// <summary>
    /// Writes a statement whose value may end in <c>?? throw …</c> (a non-nullable reference's check), breaking the line
    /// before the <c>??</c> when the whole does not fit.
    /// </summary>
    public SourceWriter Checked(string line)
    {
        var check = line.IndexOf(" ?? throw ", System.StringComparison.Ordinal);
        if (check < 0 || Fits(line))
        {
            return Line(line);
        }

        Line(line.Substring(0, check));
        _indent++;
        Line(line.Substring(check + 1));
        _indent--;
        return this;
    }

    /// <summary>Whether <paramref name="line"/>, at the current indentation, stays within <see cref="Width"/> columns.</summary>
    public bool Fits(string line) => (_indent * 4) + line.Length <= Width;

    /// <summary>Indents the lines that follow one level, without a brace (a <c>case</c> body).</summary>
    public SourceWriter Indent()
    {
        _indent++;
        return this;
    }

    /// <summary>Ends what <see cref="Indent"/> started.</summary>
    public SourceWriter Outdent()
    {
        _indent--;
        return this;
    }

    /// <summary>Drops a blank line just written, so a block never ends with one.</summary>
    public SourceWriter TrimBlankLine()
    {
        if (_text.Length >= 2 && _text[_text.Length - 1] == '\n' && _text[_text.Length - 2] == '\n')
        {
            _text.Length--;
        }

        return this;
    }

    public override string ToString() => _text.ToString();
}
