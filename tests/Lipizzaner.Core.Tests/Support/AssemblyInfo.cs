// Tests share two cores and torch's process-wide thread pool; running them one at a time keeps
// the end-to-end runs from starving each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
