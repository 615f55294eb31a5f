using System.Data.Common;
using Aitbc.Coordinator.Storage;
using Microsoft.Data.Sqlite;

namespace Aitbc.Coordinator.Tests.Storage;

public sealed class SqliteDialectTests : IDisposable
{
    private readonly string _dir = TempDir.Create("sqlite-dialect");

    public void Dispose() => TempDir.Delete(_dir);

    [Fact]
    public async Task Every_open_has_the_pragmas_whether_its_connection_is_new_or_from_the_pool()
    {
        await using var dialect = new SqliteDialect(Path.Combine(_dir, "coordinator.db"));
        var handles = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var opens = 0;
        for (var round = 0; round < 5; round++)
        {
            // Several open at once make the pool hold several physical connections; closing them returns each for reuse.
            var connections = new List<DbConnection>();
            for (var i = 0; i < 3; i++)
            {
                var connection = dialect.CreateConnection();
                await connection.OpenAsync();
                await dialect.OnOpenAsync(connection, default);
                connections.Add(connection);
                handles.Add(((SqliteConnection)connection).Handle!);
                opens++;
                Assert.Equal(5000L, await ScalarAsync(connection, "PRAGMA busy_timeout"));
                Assert.Equal(1L, await ScalarAsync(connection, "PRAGMA synchronous"));
            }
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
            if (round == 2 || round == 4)
            {
                // The pool closes this file's connections: the next opens are new physical connections, which must be set up too.
                SqliteConnection.ClearPool((SqliteConnection)connections[0]);
            }
        }
        Assert.True(handles.Count < opens, $"{handles.Count} physical connections for {opens} opens: the pool was not reused");
        Assert.True(handles.Count > 3, $"{handles.Count} physical connections: the pool was never emptied");
    }

    private static async Task<long> ScalarAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
