namespace Lipizzaner.CellWorker.Storage;

/// <summary>Where a worker leaves a finished cell's final mixture (generators, weights, manifest and a sample grid).</summary>
public interface ICellOutputStore
{
    /// <summary>
    /// Stores the files of a mixture folder (as <c>MixtureFolder.Write</c> makes it) for the cell and
    /// returns where they are: an <c>s3://bucket/prefix/</c> URI or a folder path. The manifest,
    /// <c>mixture.json</c>, is stored last, so a reader that finds it finds every file it lists.
    /// </summary>
    Task<string> WriteMixtureAsync(int cellIndex, string mixtureFolder, CancellationToken cancellationToken);
}
