namespace Lipizzaner.Coordinator.Persistence;

/// <summary>Where the coordinator keeps its runs so that a restarted coordinator continues them.</summary>
public interface IRunStore
{
    /// <summary>Whether records survive the coordinator process.</summary>
    bool IsDurable { get; }

    /// <summary>Reads every saved run. Called once, when the coordinator starts; throws when the store cannot be read.</summary>
    IReadOnlyList<RunRecord> LoadAll();

    /// <summary>
    /// Queues the newest record of a run for saving and returns at once; a later record of the same
    /// run replaces one not yet written. Never blocks on the store.
    /// </summary>
    void Save(RunRecord record);
}

/// <summary>A store that keeps nothing: a restarted coordinator starts without runs.</summary>
public sealed class TransientRunStore : IRunStore
{
    public bool IsDurable => false;

    public IReadOnlyList<RunRecord> LoadAll() => [];

    public void Save(RunRecord record)
    {
    }
}
