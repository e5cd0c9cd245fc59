using Memvisor.Core.Allocation;

namespace Memvisor.Core.Tests.Allocation;

public class SharesTests
{
    private const long Pages256Mb = 256 * 256;

    [Fact]
    public void Presets_scale_with_configured_memory()
    {
        // 256 MB: low 5*256 = 1280, normal 10*256 = 2560, high 20*256 = 5120 shares.
        Assert.Equal(1280, Shares.Low.Resolve(Pages256Mb));
        Assert.Equal(2560, Shares.Normal.Resolve(Pages256Mb));
        Assert.Equal(5120, Shares.High.Resolve(Pages256Mb));
        Assert.Equal(Shares.Normal, default);
    }

    [Fact]
    public void An_explicit_number_does_not_depend_on_memory()
    {
        Assert.Equal(1234, Shares.Of(1234).Resolve(Pages256Mb));
        Assert.Equal(1234, Shares.Of(1234).Resolve(1));
        Assert.Equal(SharesLevel.Custom, Shares.Of(1234).Level);
    }

    [Theory]
    [InlineData("low", SharesLevel.Low)]
    [InlineData(" HIGH ", SharesLevel.High)]
    [InlineData("Normal", SharesLevel.Normal)]
    public void Parse_reads_the_presets_in_any_case(string text, SharesLevel level)
    {
        Assert.Equal(level, Shares.Parse(text).Level);
    }

    [Theory]
    [InlineData("1234", 1234)]
    [InlineData("12.5", 12.5)]
    public void Parse_reads_numbers(string text, double count)
    {
        var shares = Shares.Parse(text);

        Assert.Equal(count, shares.Count);
        Assert.Equal(shares, Shares.Parse(shares.ToString()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("medium")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("NaN")]
    [InlineData("1,000")]
    public void Parse_rejects_anything_else_saying_what_is_accepted(string text)
    {
        var error = Assert.Throws<FormatException>(() => Shares.Parse(text));

        Assert.Contains($"Shares '{text}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("low, normal, high or a positive number", error.Message, StringComparison.Ordinal);
        Assert.False(Shares.TryParse(text, out _, out var message));
        Assert.Equal(error.Message, message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.PositiveInfinity)]
    public void An_explicit_number_must_be_positive_and_finite(double count)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Shares.Of(count));
    }
}
