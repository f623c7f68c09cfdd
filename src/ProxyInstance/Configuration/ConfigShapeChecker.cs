using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;

namespace EgressLab.ProxyInstance.Configuration;

/// <summary>
/// Walks a configuration section against the options types before binding, so that a misspelt key
/// (<c>Polcy</c>) or a value of the wrong type (<c>"Ports": ["https"]</c>) is reported with its path
/// instead of being silently ignored, which in an allowlist means a rule that quietly does nothing.
/// Unlike <c>BinderOptions.ErrorOnUnknownConfiguration</c>, it reports every problem, not the first.
/// </summary>
internal static class ConfigShapeChecker
{
    public static void Check(IConfigurationSection section, Type type, List<ConfigError> errors)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(errors);
        CheckNode(section, type, errors);
    }

    private static void CheckNode(IConfigurationSection section, Type type, List<ConfigError> errors)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(underlying))
        {
            CheckScalar(section, underlying, errors);
            return;
        }

        var children = section.GetChildren();
        if (section.Value is { Length: > 0 } && !children.Any())
        {
            errors.Add(new ConfigError(section.Path, $"expected {Describe(underlying)}, found the plain value '{section.Value}'."));
            return;
        }

        if (TryGetDictionaryValueType(underlying, out var dictionaryValue))
        {
            foreach (var child in children)
            {
                CheckNode(child, dictionaryValue, errors);
            }

            return;
        }

        if (TryGetListElementType(underlying, out var element))
        {
            foreach (var child in children)
            {
                if (!int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add(new ConfigError(child.Path, $"'{child.Key}' is not a list index: {section.Key} is a list, write it as a JSON array."));
                    continue;
                }

                CheckNode(child, element, errors);
            }

            return;
        }

        foreach (var child in children)
        {
            var property = underlying.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || !property.CanWrite)
            {
                var known = string.Join(", ", underlying.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name));
                errors.Add(new ConfigError(child.Path, $"unknown setting '{child.Key}'. Known settings here: {known}."));
                continue;
            }

            CheckNode(child, property.PropertyType, errors);
        }
    }

    private static void CheckScalar(IConfigurationSection section, Type type, List<ConfigError> errors)
    {
        if (section.GetChildren().Any())
        {
            errors.Add(new ConfigError(section.Path, $"expected a single {Describe(type)}, found an object or a list."));
            return;
        }

        var value = section.Value;
        if (value is null || type == typeof(string))
        {
            return;
        }

        if (value.Length == 0)
        {
            // An empty value is how configuration represents JSON null and "": treat both as "not set".
            return;
        }

        if (type == typeof(TimeSpan) && !value.Contains(':', StringComparison.Ordinal))
        {
            // TimeSpan reads a bare "5" as five days: require the unambiguous form.
            errors.Add(new ConfigError(section.Path, $"'{value}' is ambiguous as a duration: write it as hh:mm:ss, for example \"00:00:05\" for five seconds."));
            return;
        }

        var converter = TypeDescriptor.GetConverter(type);
        bool ok;
        try
        {
            ok = converter.ConvertFromInvariantString(value) is not null;
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or OverflowException)
        {
            ok = false;
        }

        if (!ok)
        {
            errors.Add(new ConfigError(section.Path, $"'{value}' is not a valid {Describe(type)}."));
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);

    private static bool TryGetListElementType(Type type, out Type element)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
        {
            element = type.GetGenericArguments()[0];
            return true;
        }

        element = typeof(object);
        return false;
    }

    private static bool TryGetDictionaryValueType(Type type, out Type value)
    {
        if (type.IsGenericType && typeof(IDictionary).IsAssignableFrom(type))
        {
            value = type.GetGenericArguments()[1];
            return true;
        }

        value = typeof(object);
        return false;
    }

    private static string Describe(Type type) =>
        type == typeof(int) ? "whole number"
        : type == typeof(double) ? "number"
        : type == typeof(bool) ? "boolean (true or false)"
        : type == typeof(TimeSpan) ? "duration such as \"00:00:30\" (hh:mm:ss)"
        : type == typeof(string) ? "string"
        : TryGetListElementType(type, out _) ? "list"
        : "object";
}
