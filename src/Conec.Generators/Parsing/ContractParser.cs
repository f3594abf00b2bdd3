using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Conec.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Conec.Generators.Parsing;

/// <summary>Turns a <c>[ConecStream]</c> interface symbol into a <see cref="ContractModel"/> and its diagnostics.</summary>
internal static class ContractParser
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Tests set this to a contract name to prove that a failure becomes CONEC0007 rather than an exception.</summary>
    internal static string? FailureForTests { get; set; }

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var contract = (INamedTypeSymbol)context.TargetSymbol;
        try
        {
            if (FailureForTests == contract.Name)
            {
                throw new System.InvalidOperationException("failure injected by a test");
            }

            return ParseContract(contract, cancellationToken);
        }
        catch (System.Exception e) when (e is not System.OperationCanceledException)
        {
            // The generator never throws: a failure is reported where the contract is.
            return new ParseResult(null, new EquatableArray<DiagnosticInfo>(ImmutableArray.Create(
                DiagnosticInfo.Create(Diagnostics.GeneratorFailure, contract.Locations.FirstOrDefault(), contract.Name, e.Message))));
        }
    }

    private static ParseResult ParseContract(INamedTypeSymbol contract, CancellationToken cancellationToken)
    {
        var diagnostics = ImmutableArray.CreateBuilder<DiagnosticInfo>();
        if (contract.IsGenericType)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.GenericContract, contract.Locations.FirstOrDefault(), contract.Name));
            return new ParseResult(null, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutable()));
        }

        ContractRules.CheckReachable(contract, diagnostics);
        var name = contract.Name;
        var baseName = BaseName(name);
        var parsed = new List<(MethodModel Model, IMethodSymbol Symbol)>();
        var ids = new Dictionary<int, string>();
        var names = new HashSet<string>();
        var types = new MessageTypeCollector(baseName + "Values");
        foreach (var member in contract.GetMembers())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ContractRules.IsContractMember(member, diagnostics))
            {
                continue;
            }

            switch (member)
            {
                case IPropertySymbol or IEventSymbol:
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.NonMethodMember, member.Locations.FirstOrDefault(),
                        member.Name, member is IPropertySymbol ? "property" : "event"));
                    continue;
                case IMethodSymbol method:
                    if (!names.Add(method.Name))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.OverloadedMethod, method.Locations.FirstOrDefault(), method.Name));
                        continue;
                    }

                    var model = ParseMethod(method, name, diagnostics, types);
                    if (model is null)
                    {
                        continue;
                    }

                    if (ContractRules.ReservedNameReason(method, baseName, model.Kind == MessageKind.OneWay) is { } reserved)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ReservedName, method.Locations.FirstOrDefault(), method.Name, reserved));
                        continue;
                    }

                    if (ids.TryGetValue(model.Id, out var holder))
                    {
                        diagnostics.Add(DiagnosticInfo.Create(Diagnostics.DuplicateMethodId, method.Locations.FirstOrDefault(),
                            method.Name, model.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), holder));
                        continue;
                    }

                    ids[model.Id] = method.Name;
                    parsed.Add((model, method));
                    break;
            }
        }

        var symbols = parsed.Select(p => p.Symbol).ToArray();
        foreach (var (model, symbol) in parsed)
        {
            if ((ContractRules.ResultEncoderClash(symbol, model.Parameters.Count, symbols, baseName)
                ?? ContractRules.ItemEncoderClash(symbol, model.Parameters.Count, symbols, baseName)) is { } clash)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ReservedName, symbol.Locations.FirstOrDefault(), symbol.Name, clash));
            }
        }

        ContractRules.CheckInherited(contract, diagnostics);
        var ns = contract.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : null;
        var isPublic = IsEffectivelyPublic(contract);
        var failed = diagnostics.Any(d => Diagnostics.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error);
        if (failed)
        {
            // Nothing is generated, so notes about how the generated code would serialize are noise beside the errors.
            var errors = diagnostics.Where(d => Diagnostics.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error).ToArray();
            diagnostics.Clear();
            diagnostics.AddRange(errors);
        }

        var result = failed
            ? null
            : new ContractModel(ns, name, contract.ToDisplayString(TypeFormat), baseName, isPublic,
                new EquatableArray<MethodModel>(parsed.Select(p => p.Model).ToImmutableArray()), types.ToArray(), types.Helpers());
        return new ParseResult(result, new EquatableArray<DiagnosticInfo>(diagnostics.ToImmutable()));
    }

    private static MethodModel? ParseMethod(IMethodSymbol method, string contract, ImmutableArray<DiagnosticInfo>.Builder diagnostics, MessageTypeCollector types)
    {
        var location = method.Locations.FirstOrDefault();
        if (method.IsGenericMethod)
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.GenericMethod, location, method.Name));
            return null;
        }

        var attribute = method.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == "Conec.ConecMethodAttribute");
        var explicitId = NamedArgument<int?>(attribute, "Id");
        var markedCall = NamedArgument<bool?>(attribute, "Call") ?? false;
        var id = explicitId ?? StableHash(method.Name);

        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            var by = method.ReturnsByRef ? "ref " : "ref readonly ";
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedReturnType, location, method.Name, by + method.ReturnType.ToDisplayString()));
            return null;
        }

        var returnType = method.ReturnType as INamedTypeSymbol;
        var returnName = returnType?.ConstructedFrom.ToDisplayString();
        MessageKind kind;
        string? resultType = null;
        CodecModel? resultCodec = null;
        switch (returnName)
        {
            case "System.Threading.Tasks.Task" or "System.Threading.Tasks.ValueTask":
                kind = markedCall ? MessageKind.Call : MessageKind.OneWay;
                break;
            case "System.Collections.Generic.IAsyncEnumerable<T>":
                kind = MessageKind.Stream;
                resultType = returnType!.TypeArguments[0].ToDisplayString(TypeFormat);
                CheckMessageType(returnType.TypeArguments[0], method.Name, location, diagnostics);
                resultCodec = types.Plan(returnType.TypeArguments[0], $"an item of {contract}.{method.Name}");
                ReportPlanned(types, method.Name, location, ReturnTypeLocation(method), diagnostics);
                break;
            case "System.Threading.Tasks.Task<TResult>" or "System.Threading.Tasks.ValueTask<TResult>":
                kind = MessageKind.CallWithResult;
                resultType = returnType!.TypeArguments[0].ToDisplayString(TypeFormat);
                CheckMessageType(returnType.TypeArguments[0], method.Name, location, diagnostics);
                resultCodec = types.Plan(returnType.TypeArguments[0], $"the result of {contract}.{method.Name}");
                ReportPlanned(types, method.Name, location, ReturnTypeLocation(method), diagnostics);
                break;
            default:
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsupportedReturnType, location, method.Name, method.ReturnType.ToDisplayString()));
                return null;
        }

        var parameters = ImmutableArray.CreateBuilder<ParameterModel>();
        StreamedParameterModel? streamed = null;
        string? tokenName = null;
        var valid = true;
        for (var i = 0; i < method.Parameters.Length; i++)
        {
            var parameter = method.Parameters[i];
            if (parameter.RefKind != RefKind.None)
            {
                diagnostics.Add(DiagnosticInfo.Create(Diagnostics.ByReferenceParameter, parameter.Locations.FirstOrDefault(), parameter.Name, method.Name));
                valid = false;
                continue;
            }

            if (parameter.Type.ToDisplayString() == "System.Threading.CancellationToken")
            {
                if (tokenName is not null || i != method.Parameters.Length - 1)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MisplacedCancellationToken, parameter.Locations.FirstOrDefault(), method.Name));
                    valid = false;
                }

                tokenName = parameter.Name;
                continue;
            }

            var parameterLocation = parameter.Locations.FirstOrDefault();
            if (parameter.Type is INamedTypeSymbol { OriginalDefinition: var definition } streamedType && definition.ToDisplayString() == "System.Collections.Generic.IAsyncEnumerable<T>")
            {
                if (streamed is not null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(Diagnostics.StreamedParameter, parameterLocation, parameter.Name, method.Name, streamed.Name));
                    valid = false;
                    continue;
                }

                // The caller streams this argument: its items are serialized one by one, after the call.
                var item = streamedType.TypeArguments[0];
                CheckMessageType(item, method.Name, parameterLocation, diagnostics);
                streamed = new StreamedParameterModel(parameter.Name, item.ToDisplayString(TypeFormat),
                    types.Plan(item, $"an item of {contract}.{method.Name}({parameter.Name})"), parameters.Count);
                ReportPlanned(types, method.Name, parameterLocation, parameterLocation, diagnostics);
                continue;
            }

            CheckMessageType(parameter.Type, method.Name, parameterLocation, diagnostics);
            parameters.Add(new ParameterModel(parameter.Name, parameter.Type.ToDisplayString(TypeFormat),
                types.Plan(parameter.Type, $"{contract}.{method.Name}({parameter.Name})")));
            ReportPlanned(types, method.Name, parameterLocation, parameterLocation, diagnostics);
        }

        if (streamed is not null && kind == MessageKind.OneWay)
        {
            kind = MessageKind.Call; // a streamed argument needs the call's id and credit, so the method is a call
        }

        return valid
            ? new MethodModel(method.Name, id, kind, returnName == "System.Threading.Tasks.Task" || returnName == "System.Threading.Tasks.Task<TResult>",
                resultType, resultCodec, new EquatableArray<ParameterModel>(parameters.ToImmutable()), tokenName, streamed)
            : null;
    }

    /// <summary>A user-defined class or struct must be a MessagePack object (built-in and framework types are MessagePack's own).</summary>
    private static void CheckMessageType(ITypeSymbol type, string method, Location? location, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        if (type is IArrayTypeSymbol array)
        {
            CheckMessageType(array.ElementType, method, location, diagnostics);
            return;
        }

        if (type is not INamedTypeSymbol named || named.SpecialType != SpecialType.None || named.TypeKind == TypeKind.Enum
            || UnsendableTypes.Reason(named) is not null)
        {
            return; // an unsendable type gets its own diagnostic, which says why no attribute would help
        }

        foreach (var argument in named.TypeArguments)
        {
            CheckMessageType(argument, method, location, diagnostics);
        }

        var ns = named.ContainingNamespace?.ToDisplayString() ?? "";
        if (ns == "System" || ns.StartsWith("System.", System.StringComparison.Ordinal) || ns.StartsWith("MessagePack", System.StringComparison.Ordinal))
        {
            return;
        }

        if (!named.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "MessagePack.MessagePackObjectAttribute"))
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.MissingMessagePackObject, location, named.ToDisplayString(), method));
        }
    }

    /// <summary>Reports what planning a parameter or result found: values that cannot be sent, and values left to MessagePackSerializer.</summary>
    private static void ReportPlanned(MessageTypeCollector types, string method, Location? location, Location? valueLocation, ImmutableArray<DiagnosticInfo>.Builder diagnostics)
    {
        foreach (var value in types.TakeUnsendable())
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.UnsendableValue, valueLocation, value.Type, value.Where, value.Reason));
        }

        foreach (var type in types.TakeFallbacks())
        {
            diagnostics.Add(DiagnosticInfo.Create(Diagnostics.SerializedAtRunTime, location, type, method));
        }
    }

    /// <summary>Where a method's return type is written, since a result's problems are there; else the method's name.</summary>
    private static Location? ReturnTypeLocation(IMethodSymbol method) =>
        method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is Microsoft.CodeAnalysis.CSharp.Syntax.MethodDeclarationSyntax declaration
            ? declaration.ReturnType.GetLocation()
            : method.Locations.FirstOrDefault();

    private static T? NamedArgument<T>(AttributeData? attribute, string name)
    {
        var value = attribute?.NamedArguments.FirstOrDefault(a => a.Key == name).Value;
        return value is { IsNull: false } typed && typed.Value is T result ? result : default;
    }

    /// <summary>The prefix of the generated types: the contract's name without its leading I (IChat → Chat).</summary>
    internal static string BaseName(string contract) =>
        contract.Length > 1 && contract[0] == 'I' && char.IsUpper(contract[1]) ? contract.Substring(1) : contract;

    /// <summary>FNV-1a over the UTF-16 name, kept positive: the same name gives the same id on every machine and version.</summary>
    internal static int StableHash(string name)
    {
        unchecked
        {
            var hash = 2166136261u;
            foreach (var c in name)
            {
                hash = (hash ^ c) * 16777619u;
            }

            return (int)(hash & 0x7FFFFFFF);
        }
    }

    private static bool IsEffectivelyPublic(INamedTypeSymbol type)
    {
        for (ISymbol? current = type; current is INamedTypeSymbol t; current = t.ContainingType)
        {
            if (t.DeclaredAccessibility != Accessibility.Public)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The model (when the contract is valid) and the diagnostics of one contract.</summary>
internal sealed record ParseResult(ContractModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
