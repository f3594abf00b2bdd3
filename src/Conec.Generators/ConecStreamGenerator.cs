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
    }

    /// <inheritdoc/>
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var contracts = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "Conec.ConecStreamAttribute",
                static (node, _) => node is Microsoft.CodeAnalysis.CSharp.Syntax.InterfaceDeclarationSyntax,
                ContractParser.Parse)
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
            var hint = (model.Namespace is null ? "" : model.Namespace + ".") + model.InterfaceName + ".Conec.g.cs";
            output.AddSource(hint, ContractEmitter.Emit(model));
        });
    }
}
