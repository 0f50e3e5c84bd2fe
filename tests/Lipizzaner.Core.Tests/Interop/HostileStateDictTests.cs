using Lipizzaner.Core.Interop;
using Lipizzaner.Core.Runtime;
using Lipizzaner.Core.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace Lipizzaner.Core.Tests.Interop;

/// <summary>Files that must be rejected: hostile pickles, damaged files and things that are not state dicts.</summary>
public sealed class HostileStateDictTests
{
    public HostileStateDictTests() => TorchSetup.Configure(1);

    public static TheoryData<string, string> Formats => new()
    {
        { "zip", "os.system" },
        { "legacy", "os.system" },
        { "zip", "builtins.eval" },
        { "legacy", "builtins.eval" },
        { "zip", "subprocess.Popen" },
        { "legacy", "subprocess.Popen" },
        { "zip", "posix.system" },
        { "legacy", "torch.load" },
    };

    /// <summary><c>os.system('echo owned')</c> by GLOBAL and REDUCE, the classic protocol-2 payload.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void Read_HostileGlobal_IsRejected(string format, string global)
    {
        var (module, name) = Split(global);
        byte[] pickle = new PickleBytes().Proto(2).Global(module, name).Text("echo owned").Op(0x85).Op('R').Op('.').ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Read(Wrap(format, pickle)));

        Assert.Contains($"'{global}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("malicious", error.Message, StringComparison.Ordinal);
    }

    /// <summary>The same call in protocol 4: the names are memoized strings and STACK_GLOBAL joins them.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void Read_HostileStackGlobal_IsRejected(string format, string global)
    {
        var (module, name) = Split(global);
        byte[] pickle = new PickleBytes().Proto(4).ShortText(module).ShortText(name).Op(0x93).Op(0x94)
            .ShortText("print(1)").Op(0x85).Op('R').Op('.').ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Read(Wrap(format, pickle)));

        Assert.Contains($"'{global}'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>STACK_GLOBAL whose strings come back from the memo, so no name is next to the opcode.</summary>
    [Fact]
    public void Read_StackGlobalFromMemo_IsRejected()
    {
        byte[] pickle = new PickleBytes().Proto(4).ShortText("os").Op('0').ShortText("system").Op('0')
            .Op('h').Raw(0).Op('h').Raw(1).Op(0x93).ShortText("id").Op(0x85).Op('R').Op('.').ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Read(HandMadeFiles.Zip(pickle)));

        Assert.Contains("'os.system'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Protocol 0's INST names the class inline; it is checked like GLOBAL.</summary>
    [Fact]
    public void Read_HostileInst_IsRejected()
    {
        byte[] pickle = new PickleBytes().Op('(').Text("ls").Op('i').Raw("subprocess\nPopen\n"u8.ToArray()).Op('.').ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Read(HandMadeFiles.Legacy(pickle)));

        Assert.Contains("'subprocess.Popen'", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A real-looking state dict whose second entry's backward hooks hide a call to eval.</summary>
    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void Read_GlobalInsideStateDict_IsRejected(string format)
    {
        bool legacy = format == "legacy";
        var pickle = new PickleBytes().Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(')
            .Text("weight").Tensor("FloatStorage", "0", 2, 0, [2], [1], legacy)
            .Text("bias").Global("torch._utils", "_rebuild_tensor_v2").Op('(')
            .Op('(').Text("storage").Global("torch", "FloatStorage").Text("0").Text("cpu").Number(2);
        if (legacy)
        {
            pickle.Op('N');
        }

        pickle.Op('t').Op('Q').Number(0).NumberTuple(1).NumberTuple(1).Op(0x89)
            .Global("builtins", "eval").Text("__import__('os').system('id')").Op(0x85).Op('R')
            .Op('t').Op('R').Op('u').Op('.');
        byte[] file = legacy
            ? HandMadeFiles.Legacy(pickle.ToArray(), [("0", 2, HandMadeFiles.Floats(1, 2))])
            : HandMadeFiles.Zip(pickle.ToArray(), new Dictionary<string, byte[]> { ["0"] = HandMadeFiles.Floats(1, 2) });

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Contains("'builtins.eval'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void Read_HandMadeFile_SharesStorage(string format)
    {
        bool legacy = format == "legacy";
        byte[] pickle = new PickleBytes().Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(')
            .Text("w").Tensor("FloatStorage", "k", 6, 1, [2, 2], [1, 2], legacy)
            .Text("v").Tensor("FloatStorage", "k", 6, 4, [2], [1], legacy)
            .Op('u').Op('.').ToArray();
        byte[] data = HandMadeFiles.Floats(0, 1, 2, 3, 4, 5);
        byte[] file = legacy
            ? HandMadeFiles.Legacy(pickle, [("k", 6, data)])
            : HandMadeFiles.Zip(pickle, new Dictionary<string, byte[]> { ["k"] = data });

        var entries = Read(file);

        try
        {
            Assert.Equal(["w", "v"], entries.Select(entry => entry.Name));
            Assert.Equal([1f, 3f, 2f, 4f], entries[0].Tensor.flatten().data<float>().ToArray());
            Assert.Equal([4f, 5f], entries[1].Tensor.data<float>().ToArray());
            Assert.Equal([1L, 2L], entries[0].Tensor.stride());
            entries[1].Tensor.fill_(9);
            Assert.Equal(9f, entries[0].Tensor[1, 1].item<float>());
        }
        finally
        {
            ReferenceStateDictTests.Dispose(entries);
        }
    }

    [Theory]
    [InlineData(5L, 1L, "reaches element 7")]
    [InlineData(7L, 1L, "outside storage")]
    [InlineData(0L, 4L, "reaches element 8")]
    public void Read_ViewOutsideStorage_IsRejected(long offset, long stride, string expected)
    {
        byte[] pickle = new PickleBytes().Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(')
            .Text("w").Tensor("FloatStorage", "0", 6, offset, [3], [stride]).Op('u').Op('.').ToArray();
        byte[] file = HandMadeFiles.Zip(pickle, new Dictionary<string, byte[]> { ["0"] = HandMadeFiles.Floats(0, 1, 2, 3, 4, 5) });

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_StorageSizeMismatch_IsRejected()
    {
        byte[] pickle = new PickleBytes().Proto(2).Global("collections", "OrderedDict").Op(')').Op('R').Op('(')
            .Text("w").Tensor("FloatStorage", "0", 6, 0, [6], [1]).Op('u').Op('.').ToArray();
        byte[] file = HandMadeFiles.Zip(pickle, new Dictionary<string, byte[]> { ["0"] = HandMadeFiles.Floats(0, 1, 2) });

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Contains("archive/data/0 has 12 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NonTensorEntry_IsRejected()
    {
        byte[] pickle = new PickleBytes().Proto(2).Op('}').Op('(').Text("epoch").Number(3).Op('u').Op('.').ToArray();

        var error = Assert.Throws<InvalidDataException>(() => Read(HandMadeFiles.Zip(pickle)));

        Assert.Contains("Entry 'epoch' is of type int, not a tensor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedLegacyFile_IsRejected()
    {
        byte[] content = File.ReadAllBytes(SharedReference.File("mnist_cnn.pkl"));

        var inData = Assert.Throws<InvalidDataException>(() => Read(content[..(content.Length - 100)]));
        var inPickle = Assert.Throws<InvalidDataException>(() => Read(content[..400]));

        Assert.Contains("truncated", inData.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", inPickle.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_TruncatedZipFile_IsRejected()
    {
        using var stream = new MemoryStream();
        using (var scope = torch.NewDisposeScope())
        {
            PyTorchStateDict.Write(stream, [("w", torch.ones(100))]);
        }

        byte[] content = stream.ToArray();

        Assert.Throws<InvalidDataException>(() => Read(content[..(content.Length / 2)]));
    }

    [Fact]
    public void Read_WrongMagicNumber_IsRejected()
    {
        byte[] file = HandMadeFiles.Legacy(new PickleBytes().Proto(2).Op('}').Op('.').ToArray(), magic: 12345);

        var error = Assert.Throws<InvalidDataException>(() => Read(file));

        Assert.Contains("magic number", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "Not a PyTorch file")]
    public void Read_NotAPyTorchFile_IsRejected(byte[] content, string expected)
    {
        var error = Assert.Throws<InvalidDataException>(() => Read(content));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ZipWithoutVersion_IsRejected()
    {
        using var stream = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = archive.CreateEntry("archive/data.pkl").Open();
            entry.Write(new PickleBytes().Proto(2).Op('}').Op('.').ToArray());
        }

        var error = Assert.Throws<InvalidDataException>(() => Read(stream.ToArray()));

        Assert.Contains("no archive/version", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadPath_Error_StartsWithPath()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "hostile.pt");
        File.WriteAllBytes(path, HandMadeFiles.Zip(new PickleBytes().Proto(2).Global("os", "system").Op('.').ToArray()));

        var error = Assert.Throws<InvalidDataException>(() => PyTorchStateDict.Read(path));

        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'os.system'", error.Message, StringComparison.Ordinal);
    }

    private static IReadOnlyList<(string Name, Tensor Tensor)> Read(byte[] content)
    {
        using var stream = new MemoryStream(content, writable: false);
        return PyTorchStateDict.Read(stream);
    }

    private static byte[] Wrap(string format, byte[] pickle) =>
        format == "zip" ? HandMadeFiles.Zip(pickle) : HandMadeFiles.Legacy(pickle);

    private static (string Module, string Name) Split(string global)
    {
        int dot = global.LastIndexOf('.');
        return (global[..dot], global[(dot + 1)..]);
    }
}
