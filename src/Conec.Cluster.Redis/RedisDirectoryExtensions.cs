using Conec.Redis;

namespace Conec;

/// <summary>Gives a cluster its directory on Redis; the coordinator itself takes no Redis dependency.</summary>
public static class RedisDirectoryExtensions
{
    /// <summary>
    /// Keeps the cluster's directory on the Redis server that <see cref="ClusterConfig.Redis"/> names. Call it on
    /// <see cref="CoordConfig.Cluster"/> before <see cref="Coord.StartAsync"/>, also when the configuration was bound
    /// from a file (for example in <c>PostConfigure&lt;CoordConfig&gt;</c>).
    /// </summary>
    /// <returns><paramref name="cluster"/>, for chaining.</returns>
    public static ClusterConfig UseRedisDirectory(this ClusterConfig cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        cluster.DirectoryFactory = RedisDirectory.ConnectAsync;
        return cluster;
    }
}
