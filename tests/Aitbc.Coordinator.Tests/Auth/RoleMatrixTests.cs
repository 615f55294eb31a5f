using System.Net;
using System.Text;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Auth;

[Collection(CoordinatorCollection.Name)]
public sealed class RoleMatrixTests(CoordinatorFixture fixture)
{
    private static readonly (string Method, string Path, string[] Allowed)[] Endpoints =
    [
        ("POST", "v1/jobs", ["client"]),
        ("GET", "v1/jobs", ["client"]),
        ("GET", "v1/jobs/job_none", ["client", "admin"]),
        ("POST", "v1/jobs/job_none/cancel", ["client"]),
        ("POST", "v1/miners/register", ["miner"]),
        ("POST", "v1/miners/heartbeat", ["miner"]),
        ("POST", "v1/jobs/job_none/status", ["miner"]),
        ("POST", "v1/jobs/job_none/complete", ["miner"]),
        ("POST", "v1/jobs/job_none/fail", ["miner"]),
        ("GET", "v1/receipts/rcpt_none", ["client", "miner", "admin"]),
        ("GET", "v1/market/miners", ["client", "miner", "admin"]),
        ("GET", "v1/market/models", ["client", "miner", "admin"]),
        ("GET", "v1/market/stats", ["client", "miner", "admin"]),
        ("GET", "v1/explorer/blocks", ["client", "miner", "admin"]),
        ("GET", "v1/explorer/transactions", ["client", "miner", "admin"]),
        ("GET", "v1/explorer/receipts", ["client", "miner", "admin"]),
        ("POST", "v1/admin/keys", ["admin"]),
        ("DELETE", "v1/admin/keys/0123456789ab", ["admin"]),
        ("GET", "v1/admin/miners", ["admin"]),
        ("GET", "v1/admin/jobs", ["admin"]),
    ];

    [Fact]
    public async Task Each_role_reaches_only_its_endpoints_and_no_key_reaches_none()
    {
        var clientKey = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "client", address = fixture.Node.Funded[60].Address.Value });
        var minerKey = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "miner", miner_pub_key = fixture.Node.Funded[61].PublicKey.Base64 });
        var callers = new (string Role, HttpClient Http)[]
        {
            ("client", fixture.Coordinator.Http(clientKey)),
            ("miner", fixture.Coordinator.Http(minerKey, "X-Miner-Key")),
            ("admin", fixture.Coordinator.Http(RunningCoordinator.AdminKey)),
            ("none", fixture.Coordinator.Http()),
        };
        var wrong = new List<string>();
        foreach (var (method, path, allowed) in Endpoints)
        {
            foreach (var (role, http) in callers)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method == "POST")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await http.SendAsync(request);
                var status = (int)response.StatusCode;
                var ok = role == "none" ? status == 401 : allowed.Contains(role) ? status is not (401 or 403) : status == 403;
                if (!ok)
                {
                    wrong.Add($"{role} {method} {path} -> {status}");
                }
            }
        }
        foreach (var (_, http) in callers)
        {
            http.Dispose();
        }
        Assert.Empty(wrong);
    }
}
