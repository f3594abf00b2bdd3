using System.Security.Cryptography;
using Conec;
using Conec.Samples;

// A file sent over a direct channel, in 64 KiB messages with back-pressure, with a progress bar; the receiver
// writes it to disk and the SHA-256 of both files must match. The bar redraws its line with '\r', which in a
// redirected output is a flood of lines, so only a terminal gets it; the summary line is written either way.
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
var ct = timeout.Token;
const int chunk = 64 * 1024;
var showProgress = !Console.IsOutputRedirected;
var size = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 64L * 1024 * 1024;
var source = Path.GetTempFileName();
var target = Path.GetTempFileName();
try
{
    await using (var file = File.Create(source))
    {
        var block = new byte[chunk];
        for (long written = 0; written < size; written += chunk)
        {
            RandomNumberGenerator.Fill(block);
            await file.WriteAsync(block.AsMemory(0, (int)Math.Min(chunk, size - written)), ct);
        }
    }

    await using var cluster = new SampleCluster();
    await cluster.StartAsync(ct);
    await using var sender = await cluster.ConnectAsync("sender", ct);
    await using var receiver = await cluster.ConnectAsync("receiver", ct);
    await sender.NewChannelAsync("receiver", ct);
    var (send, _) = await sender.NewDirectStreamAsync("receiver", ct);
    await using var incoming = receiver.IncomingStreams.GetAsyncEnumerator(ct);
    await incoming.MoveNextAsync();
    var receiving = Task.Run(async () =>
    {
        await using var output = File.Create(target);
        await foreach (var message in incoming.Current.Receive.WithCancellation(ct))
        {
            await output.WriteAsync(message, ct);
        }
    }, ct);

    var clock = System.Diagnostics.Stopwatch.StartNew();
    await using (var input = File.OpenRead(source))
    {
        var buffer = new byte[chunk];
        long sent = 0;
        var shown = -1;
        int read;
        while ((read = await input.ReadAsync(buffer, ct)) > 0)
        {
            await send.SendAsync(buffer.AsMemory(0, read), ct);
            sent += read;
            var done = (int)(40 * sent / size);
            if (showProgress && done != shown)
            {
                shown = done;
                Console.Write($"\r[{new string('#', done)}{new string('.', 40 - done)}] {100 * sent / size,3}%");
            }
        }
    }

    await send.FinishAsync(ct);
    await receiving;
    Console.WriteLine($"{(showProgress ? "\r" : "")}sent {size / (1024 * 1024)} MiB over a direct channel at {size / clock.Elapsed.TotalSeconds / 1e6:N0} MB/s");
    var sourceHash = await HashAsync(source, ct);
    var targetHash = await HashAsync(target, ct);
    var same = sourceHash.AsSpan().SequenceEqual(targetHash);
    Console.WriteLine(same ? "OK: the received file's SHA-256 matches." : "FAILED: the files differ.");
    return same ? 0 : 1;
}
finally
{
    File.Delete(source);
    File.Delete(target);
}

static async Task<byte[]> HashAsync(string path, CancellationToken ct)
{
    await using var file = File.OpenRead(path);
    return await SHA256.HashDataAsync(file, ct);
}
