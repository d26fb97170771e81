using System.Runtime.CompilerServices;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Shmap.Nats;

/// <summary>
/// Reads one subject filter of a stream in order, through an ephemeral pull consumer configured
/// with a single <c>filter_subject</c> (nats-server 2.9 has no <c>filter_subjects</c>, which the
/// client's ordered consumer always sends). A gap in the consumer's sequence or the loss of the
/// consumer (a server restart, a lost node) ends the read with an exception, so the caller starts
/// again: a read never silently skips a message.
/// </summary>
internal static class JetStreamReader
{
    /// <summary>How often the consumer's existence is checked while reading.</summary>
    private static readonly TimeSpan s_watchdogPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Unanswered checks in a row after which the consumer counts as lost (about 6 s).</summary>
    private const int MaxUnanswered = 3;

    public static async IAsyncEnumerable<INatsJSMsg<T>> ReadAsync<T>(
        INatsJSContext js,
        string stream,
        string filter,
        ConsumerConfigDeliverPolicy deliverPolicy,
        int maxMessages,
        INatsDeserialize<T> serializer,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var config = new ConsumerConfig
        {
            Name = "shmap-" + Guid.NewGuid().ToString("N"),
            FilterSubject = filter,
            DeliverPolicy = deliverPolicy,
            AckPolicy = ConsumerConfigAckPolicy.None,
            InactiveThreshold = TimeSpan.FromSeconds(30),
            MemStorage = true,
            NumReplicas = 1,
        };
        INatsJSConsumer consumer = await js.CreateConsumerAsync(stream, config, cancellationToken).ConfigureAwait(false);
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task watchdog = WatchAsync(js, stream, config.Name, lost, cancellationToken);
        try
        {
            ulong expected = 1;
            await foreach (INatsJSMsg<T> message in consumer.ConsumeAsync(serializer, new NatsJSConsumeOpts { MaxMsgs = maxMessages }, lost.Token).ConfigureAwait(false))
            {
                if (message.Metadata is not { } metadata)
                {
                    continue;
                }

                if (metadata.Sequence.Consumer != expected)
                {
                    throw new NatsJSException($"consumer {config.Name} skipped: expected delivery {expected}, got {metadata.Sequence.Consumer}");
                }

                expected++;
                yield return message;
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new NatsJSException($"consumer {config.Name} of {stream} was lost (server restart or node failure)");
        }
        finally
        {
            await lost.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
            await TryDeleteAsync(js, stream, config.Name).ConfigureAwait(false);
        }
    }

    /// <summary>Cancels <paramref name="lost"/> when the consumer no longer exists on the server.</summary>
    private static async Task WatchAsync(INatsJSContext js, string stream, string name, CancellationTokenSource lost, CancellationToken cancellationToken)
    {
        int unanswered = 0;
        try
        {
            while (!lost.IsCancellationRequested)
            {
                await Task.Delay(s_watchdogPeriod, lost.Token).ConfigureAwait(false);
                try
                {
                    _ = await js.GetConsumerAsync(stream, name, lost.Token).ConfigureAwait(false);
                    unanswered = 0;
                }
                catch (NatsJSApiException e) when (e.Error.Code == 404)
                {
                    await lost.CancelAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is NatsException && !cancellationToken.IsCancellationRequested)
                {
                    // No answer: disconnected, or the node that held the consumer is gone. A
                    // consumer that no one speaks for after a few tries is treated as lost.
                    if (++unanswered >= MaxUnanswered)
                    {
                        await lost.CancelAsync().ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task TryDeleteAsync(INatsJSContext js, string stream, string name)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await js.DeleteConsumerAsync(stream, name, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NatsException or OperationCanceledException)
        {
            // Gone already, or the server is away: the inactive threshold removes it.
        }
    }
}
