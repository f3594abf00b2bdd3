using System.Linq;
using Microsoft.CodeAnalysis;

namespace Conec.Generators;

/// <summary>Every diagnostic the generator reports; docs/generator.md explains each with an example and a fix.</summary>
internal static class Diagnostics
{
    private const string ContractCategory = "Conec.Contract";
    private const string HelpBase = "https://github.com/conec-dotnet/conec/blob/main/docs/generator.md#";

    public static readonly DiagnosticDescriptor DuplicateMethodId = Create(
        "CONEC0001", "Two contract methods have the same id",
        "Method '{0}' has id {1}, which '{2}' already uses; give one of them [ConecMethod(Id = n)] with an unused id",
        "Every method of a contract travels as its id: two explicit ids are the same, or (rarely) two names hash alike.");

    public static readonly DiagnosticDescriptor GenericMethod = Create(
        "CONEC0002", "Generic methods cannot be contract methods",
        "Method '{0}' is generic; contract methods need concrete parameter types",
        "The receiving side must know each argument's type from the method id alone.");

    public static readonly DiagnosticDescriptor ByReferenceParameter = Create(
        "CONEC0003", "ref, out and in parameters cannot cross the network",
        "Parameter '{0}' of method '{1}' is passed by reference; pass it by value",
        "A remote side cannot write back into the caller's variables.");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Create(
        "CONEC0004", "Unsupported return type",
        "Method '{0}' returns '{1}'; contract methods return Task, ValueTask, Task<T>, ValueTask<T> or IAsyncEnumerable<T>",
        "One-way messages return Task or ValueTask; calls return Task<T> or ValueTask<T> (or Task/ValueTask with [ConecMethod(Call = true)]); streamed results return IAsyncEnumerable<T>.");

    public static readonly DiagnosticDescriptor NonMethodMember = Create(
        "CONEC0005", "Properties and events cannot be contract members",
        "'{0}' is a {1}; a contract has methods only",
        "Contract members become messages; state and events have no message form.");

    public static readonly DiagnosticDescriptor MissingMessagePackObject = Create(
        "CONEC0006", "Message type lacks MessagePack attributes",
        "Type '{0}' used by '{1}' has no [MessagePackObject] attribute; mark it and its members with [Key(n)]",
        "Arguments and results are MessagePack-serialized; user types need [MessagePackObject] with [Key] members.");

    public static readonly DiagnosticDescriptor GeneratorFailure = new(
        "CONEC0007", "The Conec generator failed", "The generator failed on '{0}': {1}; please report this with the contract",
        "Conec.Generator", DiagnosticSeverity.Error, isEnabledByDefault: true,
        description: "An unexpected failure inside the generator; no code was generated for this contract.", helpLinkUri: HelpBase + "conec0007");

    public static readonly DiagnosticDescriptor GenericContract = Create(
        "CONEC0008", "Generic interfaces cannot be contracts",
        "Contract '{0}' is generic; declare a contract per concrete message type",
        "Both sides of a stream must agree on every type from the contract alone.");

    public static readonly DiagnosticDescriptor MisplacedCancellationToken = Create(
        "CONEC0009", "Misplaced CancellationToken parameter",
        "Method '{0}' must have at most one CancellationToken parameter, and it must be the last",
        "The token is not sent; it cancels the local wait and, for calls, the remote handler.");

    public static readonly DiagnosticDescriptor SerializedAtRunTime = new(
        "CONEC0010", "A message value is serialized by MessagePack's run-time resolver",
        "Type '{0}', used by '{1}', is serialized through MessagePackSerializer at run time, which needs dynamic code under Native AOT",
        ContractCategory, DiagnosticSeverity.Info, isEnabledByDefault: true,
        description: "The generator writes code for primitives, strings, byte arrays, DateTime, TimeSpan, Guid, enums, int-keyed " +
            "[MessagePackObject] types, nullable values, arrays, lists and dictionaries. Other types work, through MessagePack's " +
            "resolvers; for a Native AOT build, replace them with one of those shapes.",
        helpLinkUri: HelpBase + "conec0010");

    public static readonly DiagnosticDescriptor StreamedParameter = Create(
        "CONEC0011", "Only one parameter can be streamed",
        "Parameter '{0}' of method '{1}' is a second IAsyncEnumerable<T>; a call streams one argument, beside '{2}'",
        "A call's streamed argument travels as items after the call, one sequence per call. Merge the sequences into one of a type that carries either item, or make two calls.");

    public static readonly DiagnosticDescriptor UnsendableValue = Create(
        "CONEC0012", "A value that cannot be sent",
        "'{0}' in {1} cannot be sent: {2}",
        "Tasks, delegates, cancellation tokens, streams, enumerators, pointers, ref structs and dynamic have no message form; no serializer can carry them.");

    public static readonly DiagnosticDescriptor StaticAbstractMember = Create(
        "CONEC0013", "Static abstract members cannot be in a contract",
        "'{0}' is static abstract; the generated client and sender cannot implement it",
        "Calls reach instances. Give the member a body (static virtual), or move it out of the contract.");

    public static readonly DiagnosticDescriptor InheritedMember = Create(
        "CONEC0014", "Contracts cannot inherit members",
        "Contract '{0}' inherits {1} from '{2}', which the generated types do not implement; declare contract methods in the contract itself",
        "The generated client, sender and server serve the methods the contract declares. Move inherited methods into the contract, or drop the base interface (the generated client is already IAsyncDisposable).");

    public static readonly DiagnosticDescriptor NonPublicMember = Create(
        "CONEC0015", "Contract members must be public or internal",
        "'{0}' is {1}; the generated server calls contract methods from outside the interface",
        "The generated types implement and call contract members; protected and private protected ones are out of their reach.");

    public static readonly DiagnosticDescriptor UnreachableContract = Create(
        "CONEC0016", "The generated code cannot reach the contract",
        "Contract '{0}' is {1}; the generated types, which sit in its namespace, cannot name it",
        "Make the contract, and every type it is nested in, internal or public.");

    public static readonly DiagnosticDescriptor OverloadedMethod = Create(
        "CONEC0017", "Contract methods cannot be overloaded",
        "Method '{0}' overloads another contract method; give each method its own name",
        "Each method becomes a message record, an id constant and a codec method named after it, so names must be unique.");

    public static readonly DiagnosticDescriptor ReservedName = Create(
        "CONEC0018", "A method name the generated code needs",
        "Method '{0}' cannot keep its name: {1}; rename it",
        "Method names become members of the generated types; a few names those types already have, or are.");

    public static readonly DiagnosticDescriptor ClashingContracts = Create(
        "CONEC0019", "Two contracts generate the same types",
        "Contract '{0}' generates the same types as '{1}' ({2}Client, {2}Message…) in {3}; rename one",
        "The generated types are named after the contract without its leading I and sit in its namespace, so contracts nested in different types, or named IPing and Ping, collide.");

    /// <summary>Every descriptor, in id order.</summary>
    internal static readonly DiagnosticDescriptor[] All =
        [DuplicateMethodId, GenericMethod, ByReferenceParameter, UnsupportedReturnType, NonMethodMember, MissingMessagePackObject,
         GeneratorFailure, GenericContract, MisplacedCancellationToken, SerializedAtRunTime, StreamedParameter, UnsendableValue,
         StaticAbstractMember, InheritedMember, NonPublicMember, UnreachableContract,
         OverloadedMethod, ReservedName, ClashingContracts];

    public static DiagnosticDescriptor ById(string id) => All.First(d => d.Id == id);

    private static DiagnosticDescriptor Create(string id, string title, string message, string description) =>
        new(id, title, message, ContractCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            description: description, helpLinkUri: HelpBase + id.ToLowerInvariant());
}
