using Aitbc.Cli.Receipts;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Devnet;

/// <summary>JSON of <c>aitbc demo</c>: the network it ran, the finished job, and the receipt's checks.</summary>
public sealed record DemoView(DevnetView Network, JobView Job, ReceiptVerificationView? Verification);
