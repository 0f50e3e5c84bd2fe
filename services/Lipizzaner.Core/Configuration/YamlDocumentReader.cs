using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Lipizzaner.Core.Configuration;

/// <summary>Parses configuration text into the root mapping of its single YAML document.</summary>
internal static class YamlDocumentReader
{
    /// <summary>
    /// Returns the root mapping, which is empty for an empty document. Throws <see cref="ConfigException"/>.
    /// </summary>
    public static YamlMappingNode ReadRoot(string yamlText, string source)
    {
        var stream = new YamlStream();
        var parser = new PositionTrackingParser(new Parser(new StringReader(yamlText)));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException exception)
        {
            throw new ConfigException(
                $"Invalid YAML in {source} at line {exception.Start.Line}, column {exception.Start.Column}: "
                + exception.Message,
                exception);
        }
        catch (InvalidOperationException exception)
        {
            // YamlDotNet 18.1.0's scanner fails this way, without a position, on some unclosed flow
            // collections such as "a: [1" followed by another line. The last parsed event locates the error.
            throw new ConfigException(
                $"Invalid YAML in {source} after line {parser.LastEnd.Line}, column {parser.LastEnd.Column}: "
                + "the parser failed; check for an unclosed '[', '{' or quote",
                exception);
        }

        if (stream.Documents.Count == 0)
        {
            return new YamlMappingNode();
        }

        if (stream.Documents.Count > 1)
        {
            throw new ConfigException(
                $"Invalid configuration in {source}: it contains {stream.Documents.Count} YAML documents; "
                + "expected one (remove the extra '---' separators)");
        }

        var root = stream.Documents[0].RootNode;
        return root switch
        {
            YamlMappingNode mapping => mapping,
            YamlScalarNode when IsNullScalar(root) => new YamlMappingNode(),
            _ => throw new ConfigException(
                $"Invalid configuration in {source} at line {root.Start.Line}: the document is a {NodeKind(root)}; "
                + "expected a mapping of sections such as 'trainer:' and 'network:'"),
        };
    }

    /// <summary>Returns whether a scalar was written without quotes (nodes built in code count as unquoted).</summary>
    public static bool IsPlain(YamlScalarNode scalar) => scalar.Style is ScalarStyle.Plain or ScalarStyle.Any;

    /// <summary>Returns whether a node is a scalar that YAML reads as null, such as an empty value.</summary>
    public static bool IsNullScalar(YamlNode node) =>
        node is YamlScalarNode scalar && YamlText.IsNull(scalar.Value ?? "", IsPlain(scalar));

    public static string NodeKind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "scalar",
    };

    /// <summary>
    /// Passes events through and keeps the end of the last one, to locate errors that carry no position.
    /// </summary>
    private sealed class PositionTrackingParser(IParser inner) : IParser
    {
        public Mark LastEnd { get; private set; } = Mark.Empty;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            bool moved = inner.MoveNext();
            if (moved && inner.Current is { } current)
            {
                LastEnd = current.End;
            }

            return moved;
        }
    }
}
