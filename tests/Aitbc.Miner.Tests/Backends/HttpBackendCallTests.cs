using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Backends;

public sealed class HttpBackendCallTests
{
    [Theory]
    [InlineData("""{"error":"model 'x' not found"}""", "model 'x' not found")]
    [InlineData("""{"error":{"message":"The model `x` does not exist.","type":"NotFoundError","code":404}}""", "The model `x` does not exist.")]
    [InlineData("<html><body>502 Bad Gateway</body></html>\n", "<html><body>502 Bad Gateway</body></html>")]
    [InlineData("""{"detail":"Not Found"}""", """{"detail":"Not Found"}""")]
    [InlineData("", "(empty body)")]
    public void Takes_the_message_from_either_error_shape_or_the_raw_body(string body, string message) =>
        Assert.Equal(message, HttpBackendCall.ErrorMessage(body));

    [Fact]
    public void A_long_raw_body_is_shortened()
    {
        var message = HttpBackendCall.ErrorMessage(new string('x', 5000));

        Assert.Equal(501, message.Length);
        Assert.EndsWith("…", message);
    }
}
