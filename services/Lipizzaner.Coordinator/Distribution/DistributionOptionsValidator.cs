using Microsoft.Extensions.Options;

namespace Lipizzaner.Coordinator.Distribution;

/// <summary>Rejects invalid <see cref="DistributionOptions"/>; each message names the setting, its value and the valid range.</summary>
public sealed class DistributionOptionsValidator : IValidateOptions<DistributionOptions>
{
    public ValidateOptionsResult Validate(string? name, DistributionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string section = DistributionOptions.SectionName;

        if (options.MinClients < 1)
        {
            errors.Add($"{section}:MinClients is {options.MinClients}; it must be at least 1.");
        }

        if (options.MaxClients < Math.Max(1, options.MinClients))
        {
            errors.Add($"{section}:MaxClients is {options.MaxClients}; it must be at least MinClients ({options.MinClients}) and at least 1.");
        }

        RequirePositive(errors, "RegistrationTimeout", options.RegistrationTimeout);
        RequirePositive(errors, "LeaseDuration", options.LeaseDuration);
        RequirePositive(errors, "PolicyInterval", options.PolicyInterval);

        if (!(options.FinishProportion is > 0 and <= 1))
        {
            errors.Add($"{section}:FinishProportion is {options.FinishProportion}; it must be in (0, 1].");
        }

        if (options.StragglerTimeout < TimeSpan.Zero)
        {
            errors.Add($"{section}:StragglerTimeout is {options.StragglerTimeout}; it must be zero or more.");
        }

        if (options.MaxDeadCells < 0)
        {
            errors.Add($"{section}:MaxDeadCells is {options.MaxDeadCells}; it must be zero or more.");
        }

        if (!(options.MaxAspectRatio >= 1) || double.IsInfinity(options.MaxAspectRatio))
        {
            errors.Add($"{section}:MaxAspectRatio is {options.MaxAspectRatio}; it must be a finite number of at least 1.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void RequirePositive(List<string> errors, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{DistributionOptions.SectionName}:{setting} is {value}; it must be more than zero (hh:mm:ss).");
        }
    }
}
