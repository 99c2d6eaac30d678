"""Every number of the post, checked through the CLI at the digits the post prints.

The expected values are copied from shared/reference/post-numbers.md (the post and an
independent full-precision computation), never from this engine's output.
"""

import json

import pytest

# (name as a reader would type it, the post's printed value)
PRINTED = [
    ("net_h1", "0.3775"),
    ("out_h1", "0.593269992"),
    ("out_h2", "0.596884378"),
    ("net_o1", "1.105905967"),
    ("out_o1", "0.75136507"),
    ("out_o2", "0.772928465"),
    ("E_o1", "0.274811083"),
    ("E_o2", "0.023560026"),
    ("E_total", "0.298371109"),
    ("dE_total/dout_o1", "0.74136507"),
    ("dout_o1/dnet_o1", "0.186815602"),
    ("dnet_o1/dw5", "0.593269992"),
    ("dE_total/dw5", "0.082167041"),
    ("w5+", "0.35891648"),
    ("w6+", "0.408666186"),
    ("w7+", "0.511301270"),
    ("w8+", "0.561370121"),
    ("dE_o1/dnet_o1", "0.138498562"),
    ("dnet_o1/dout_h1", "0.40"),
    ("dE_o1/dout_h1", "0.055399425"),
    ("dE_o2/dout_h1", "-0.019049119"),
    ("dE_total/dout_h1", "0.036350306"),
    ("dout_h1/dnet_h1", "0.241300709"),
    ("dnet_h1/dw1", "0.05"),
    ("dE_total/dw1", "0.000438568"),
    ("w1+", "0.149780716"),
    ("w2+", "0.19956143"),
    ("w3+", "0.24975114"),
    ("w4+", "0.29950229"),
]

# Values the post does not print, at full precision (the reference's independent computation).
FULL = [
    ("out_h1", "0.593269992107187"),
    ("net_o1", "1.10590596705977"),
    ("E_total", "0.298371108760003"),
    ("dE_total/dw5", "0.0821670405642308"),
    ("w5+", "0.358916479717885"),
    ("dE_o2/dout_h1", "-0.0190491182582781"),
    ("dE_total/dw1", "0.000438567734474347"),
    ("w4+", "0.299502287264739"),
    ("net_h2", "0.3925"),
    ("net_o2", "1.22492140409647"),
    ("delta_o2", "-0.0380982365165562"),
    ("dE/dw6", "0.0826676278475333"),
    ("dE/dw7", "-0.0226025404774751"),
    ("dE/dw8", "-0.0227402422159782"),
    ("dE/dw2", "0.000877135468948693"),
    ("dE/dw3", "0.00049771273526086"),
    ("dE/dw4", "0.00099542547052172"),
    ("delta_h1", "0.00877135468948693"),
    ("delta_h2", "0.0099542547052172"),
    ("E_total+", "0.291027773693599"),
]


@pytest.mark.parametrize(("name", "printed"), PRINTED)
def test_every_printed_value_of_the_post_is_right(cli, name, printed):
    result = cli("check", name, printed)
    assert result.exit_code == 0, result.output
    assert "right" in result.output and "not right" not in result.output


@pytest.mark.parametrize(("name", "value"), FULL)
def test_full_precision_values_are_right(cli, name, value):
    result = cli("check", name, value, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "right"
    assert abs(data["value"] - float(value)) <= 1e-14 * abs(float(value))


def test_the_posts_error_after_the_update_is_called_wrong_and_explained(cli):
    result = cli("check", "E_total+", "0.291027924")
    assert result.exit_code == 1
    assert "original is wrong here" in result.output
    assert "already-updated output weights" in result.output
    assert "0.291027773" not in result.output  # a wrong answer never shows the value


def test_the_shared_bias_gradients_are_not_quantities_while_biases_stay_fixed(cli):
    result = cli("check", "dE/db1", "0.0187256093947041")
    assert result.exit_code == 2
    assert "unknown quantity" in result.stderr
