using Lipizzaner.Core.IO;

namespace Lipizzaner.Core.Tests.Data;

public sealed class LipizzanerPathsTests
{
    [Fact]
    public void ResolveCacheDirectory_LipizzanerCacheSet_UsesIt()
    {
        string directory = LipizzanerPaths.ResolveCacheDirectory("/data/cache", "/xdg", "/home/user");

        Assert.Equal("/data/cache", directory);
    }

    [Fact]
    public void ResolveCacheDirectory_RelativeLipizzanerCache_MadeAbsolute()
    {
        string directory = LipizzanerPaths.ResolveCacheDirectory("cache", null, "/home/user");

        Assert.Equal(Path.GetFullPath("cache"), directory);
    }

    [Fact]
    public void ResolveCacheDirectory_XdgSet_UsesSubfolder()
    {
        string directory = LipizzanerPaths.ResolveCacheDirectory(null, "/xdg", "/home/user");

        Assert.Equal("/xdg/lipizzaner", directory);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", "")]
    [InlineData(" ", "relative/xdg")]
    public void ResolveCacheDirectory_NothingUsable_UsesHomeCache(string? lipizzanerCache, string? xdgCacheHome)
    {
        string directory = LipizzanerPaths.ResolveCacheDirectory(lipizzanerCache, xdgCacheHome, "/home/user");

        Assert.Equal("/home/user/.cache/lipizzaner", directory);
    }

    [Fact]
    public void DefaultMnistDirectory_IsMnistUnderCache()
    {
        Assert.Equal(
            Path.Combine(LipizzanerPaths.DefaultCacheDirectory, "mnist"), LipizzanerPaths.DefaultMnistDirectory);
    }
}
