using Conec.Generators.Emit;
using Conec.Generators.Parsing;
using Microsoft.CodeAnalysis;

namespace Conec.Generators;

/// <summary>
/// Generates typed senders, receivers, RPC clients and servers, and broadcast readers for every interface marked
/// <c>[ConecStream]</c> (docs/generator.md).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ConecStreamGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline's steps, for incrementality tests.</summary>
    public static class Steps
    {
        /// <summary>Each contract parsed into its model and diagnostics.</summary>
        public const string Contracts = "ConecContracts";

        /// <summary>The models of valid contracts.</summary>
        public const string Models = "ConecModels";

        /// <summary>Each contract's generated type names and location, to report contracts whose types collide.</summary>
        public const string GeneratedNames = "ConecGeneratedNames";
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var contracts = context.SyntaxProvider
            .ForAttributeWithMetadataName(Attribute, IsInterface, ContractParser.Parse)
            .WithTrackingName(Steps.Contracts);

        context.RegisterSourceOutput(contracts, static (output, result) =>
        {
            foreach (var diagnostic in result.Diagnostics)
            {
                output.ReportDiagnostic(diagnostic.ToDiagnostic());
            }
        });

        var models = contracts
            .Where(static result => result.Model is not null)
            .Select(static (result, _) => result.Model!)
            .WithTrackingName(Steps.Models);

        context.RegisterSourceOutput(models, static (output, model) =>
        {
            // The full name, containing types included: two contracts of one simple name must not share a file name.
            var hint = model.InterfaceReference.Replace("global::", "") + ".Conec.g.cs";
            output.AddSource(hint, ContractEmitter.Emit(model));
        });

        // Apart from the models, so that an edit moving a contract re-runs only this cheap check, not the emitter.
        var names = context.SyntaxProvider
            .ForAttributeWithMetadataName(Attribute, IsInterface, static (target, _) => GeneratedNames.Of((INamedTypeSymbol)target.TargetSymbol))
            .WithTrackingName(Steps.GeneratedNames)
            .Collect();
        context.RegisterSourceOutput(names, static (output, all) =>
        {
            foreach (var clash in GeneratedNames.Clashes(all))
            {
                output.ReportDiagnostic(clash.ToDiagnostic());
            }
        });
    }

    private const string Attribute = "Conec.ConecStreamAttribute";

    private static bool IsInterface(SyntaxNode node, System.Threading.CancellationToken cancellationToken) =>
        node is Microsoft.CodeAnalysis.CSharp.Syntax.InterfaceDeclarationSyntax;
}
