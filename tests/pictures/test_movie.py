"""nn.movie: the frames hold the model's own numbers at the recorded epochs, the figures `fit`
reported, and the boundary the model predicts; the page is one self-contained file whose
layout is computed once. (The page in a real browser: tests/pictures/test_pages.py.)"""

import base64
import json
import math
import re

import pytest

import nn
from autograd import no_grad
from nn import MLP, datasets, movie
from nn.train import evaluate, readout, track


def _moons(n=60, seed=0):
    X, y = datasets.moons(n, noise=0.1, seed=seed)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, seed=seed)
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    return X_train, y_train, X_test, y_test


def _page_data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="movie-data">(.*?)</script>', html, re.S)[1])


@pytest.fixture(scope="module")
def trained():
    X, y, X_test, y_test = _moons()
    model = MLP(2, [5, 3, 1], seed=0)
    rec = movie.Movie(model, X, y, X_test, y_test, loss="hinge", every=3, grid=12)
    history = nn.fit(model, X, y, loss="hinge", epochs=7, batch_size=16, progress=False, seed=0, callback=rec)
    return model, rec, history, (X, y, X_test, y_test)


def test_frames_are_epoch_0_then_every_kth_then_the_last(trained):
    _, rec, _, _ = trained
    rec.data()  # adds the last epoch's frame
    assert [f["epoch"] for f in rec.frames] == [0, 3, 6, 7]


def test_the_last_frame_holds_the_models_weights_and_gradient_sizes(trained):
    model, rec, _, _ = trained
    last = rec.data()["frames"][-1]
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    biases = [n.b.data for layer in model.layers for n in layer.neurons]
    grads = [math.sqrt(sum(p.grad**2 for p in n.parameters())) for layer in model.layers for n in layer.neurons]
    for shown, exact in zip(last["w"] + last["b"] + last["g"], weights + biases + grads, strict=True):
        assert shown == pytest.approx(exact, rel=1e-3, abs=1e-12)  # 4 significant digits


def test_each_frame_shows_the_loss_and_accuracy_fit_reported_for_its_epoch(trained):
    model, rec, history, (X, y, X_test, y_test) = trained
    frames = rec.data()["frames"]
    for f in frames[1:]:
        e = f["epoch"]
        assert f["loss"] == history["loss"][e - 1] and f["accuracy"] == history["accuracy"][e - 1]
        assert f["test_loss"] == history["test_loss"][e - 1]
    final = evaluate(model, X_test, y_test, loss="hinge")
    assert frames[-1]["test_loss"] == final["loss"] and frames[-1]["test_accuracy"] == final["accuracy"]


def test_the_first_frame_is_the_untrained_model_evaluated():
    X, y, X_test, y_test = _moons(seed=1)
    model = MLP(2, [4, 1], seed=3)
    before = evaluate(model, X, y, loss="bce_with_logits")
    rec = movie.Movie(model, X, y, X_test, y_test, loss="bce_with_logits", grid=8)
    first = rec.frames[0]
    assert first["epoch"] == 0 and first["loss"] == before["loss"] and first["accuracy"] == before["accuracy"]
    assert first["test_loss"] == evaluate(model, X_test, y_test, loss="bce_with_logits")["loss"]


def test_the_plane_image_is_the_readout_at_each_cell_centre_top_row_first(trained):
    model, rec, _, _ = trained
    data = rec.data()
    x0, x1, y0, y1 = data["plane"]
    n = data["grid"]
    cells = base64.b64decode(data["frames"][-1]["plane"])
    assert len(cells) == n * n
    with no_grad():
        for row in (0, n // 2, n - 1):
            for col in (0, n // 3, n - 1):
                x = x0 + (x1 - x0) * (col + 0.5) / n
                y = y1 - (y1 - y0) * (row + 0.5) / n  # row 0 is the top of the plane
                _, shade = readout("hinge", model([x, y]))
                assert cells[row * n + col] == round(255 * shade)


def test_a_multiclass_plane_stores_the_argmax_and_its_confidence():
    X, y = datasets.spiral(45, classes=3, seed=0)
    model = MLP(2, [6, 3], seed=0)
    rec = movie.Movie(model, X, y, grid=6)
    nn.fit(model, X, y, epochs=2, progress=False, callback=rec)
    data = rec.data()
    assert data["multiclass"] and data["classes"] == 3
    cells = base64.b64decode(data["frames"][-1]["plane"])
    assert len(cells) == 2 * 6 * 6
    x0, x1, y0, y1 = data["plane"]
    with no_grad():
        cls, confidence = readout("cross_entropy", model([x0 + (x1 - x0) * 0.5 / 6, y1 - (y1 - y0) * 0.5 / 6]))
    assert (cells[0], cells[1]) == (cls, round(255 * confidence))


def test_the_movie_records_the_test_figures_once_even_after_track():
    X, y, X_test, y_test = _moons(seed=2)
    model = MLP(2, [3, 1], seed=0)
    rec = movie.Movie(model, X, y, X_test, y_test, grid=4)
    history = nn.fit(model, X, y, epochs=3, progress=False, callback=[track(X_test, y_test), rec])
    assert len(history["test_loss"]) == 3
    alone = movie.Movie(MLP(2, [3, 1], seed=0), X, y, X_test, y_test, grid=4)
    again = nn.fit(alone.model, X, y, epochs=3, progress=False, callback=alone)
    assert again["test_loss"] == history["test_loss"]


def test_the_page_is_self_contained_and_draws_one_line_per_weight_and_one_circle_per_unit(trained):
    model, rec, _, _ = trained
    page = rec.html()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=|@import|url\(|https?://", page), "the page must load nothing from elsewhere"
    data = _page_data(page)
    assert data["sizes"] == [2, 5, 3, 1]
    assert page.count('<line data-mv="edge"') == 2 * 5 + 5 * 3 + 3 * 1 == len(data["frames"][0]["w"])
    assert page.count('<circle data-mv="neuron"') == 9 and page.count('<circle data-mv="input"') == 2
    assert "<title>W1[4,1]</title>" in page and "W3[0,2]" in page  # edges named as the parameters are
    assert len(data["points"]["train"]) == len(rec.X) and len(data["points"]["test"]) == len(rec.X_test)


def test_the_layout_is_computed_once_and_keeps_every_node_inside_the_drawing():
    columns = movie._layout([2, 16, 16, 1])
    assert [len(c) for c in columns] == [2, 16, 16, 1]
    assert movie._layout([2, 16, 16, 1]) == columns
    for c, column in enumerate(columns):
        assert len({x for x, _, _ in column}) == 1  # a layer is a column
        assert all(r <= x <= movie._GRAPH_W - r and r <= y <= movie._GRAPH_H - r for x, y, r in column)
        if c:
            assert columns[c][0][0] > columns[c - 1][0][0]
    wide = movie._layout([64, 200, 10])  # a tall layer shrinks its spacing, never leaves the drawing
    assert all(0 < y < movie._GRAPH_H for column in wide for _, y, _ in column)


def test_a_frame_of_the_demos_network_costs_a_few_kilobytes():
    X, y, X_test, y_test = _moons(n=200)
    model = MLP(2, [16, 16, 1], seed=0)
    rec = movie.Movie(model, X, y, X_test, y_test, loss="hinge")
    nn.fit(model, X, y, loss="hinge", epochs=4, batch_size=32, progress=False, callback=rec)
    per_frame = len(json.dumps(rec.data()["frames"][-1], separators=(",", ":")))
    assert per_frame < 8_000  # so the demo's 101 frames stay under 1 MB


def test_a_model_without_two_inputs_gets_no_plane_and_a_note():
    X, y = [[0.1 * i, 0.2, -0.1 * i] for i in range(8)], [i % 2 for i in range(8)]
    model = MLP(3, [2, 1], seed=0)
    rec = movie.Movie(model, X, y)
    nn.fit(model, X, y, epochs=1, progress=False, callback=rec)
    page = rec.html()
    assert "plane" not in rec.frames[-1] and "does not have two inputs" in page and "<canvas" not in page


def test_record_trains_writes_the_page_and_returns_the_history(tmp_path):
    X, y, X_test, y_test = _moons(seed=4)
    model = MLP(2, [3, 1], seed=0)
    history, rec = movie.record(
        model,
        X,
        y,
        tmp_path / "m.html",
        X_test=X_test,
        y_test=y_test,
        epochs=4,
        every=2,
        grid=6,
        progress=False,
        title="my <movie>",
    )
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert len(history["loss"]) == 4 and [f["epoch"] for f in rec.frames] == [0, 2, 4]
    assert "<title>my &lt;movie&gt;</title>" in page
    assert _page_data(page)["curves"]["loss"][1:] == history["loss"]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda m, X, y: movie.Movie(nn.Layer(2, 1), X, y), TypeError, "needs an nn.MLP"),
        (lambda m, X, y: movie.Movie(m, X, y, every=0), ValueError, "every must be an int >= 1"),
        (lambda m, X, y: movie.Movie(m, X, y, grid=1000), ValueError, "grid must be at most 200"),
        (lambda m, X, y: movie.Movie(m, X, y, loss=lambda p, t: p[0]), ValueError, "named loss"),
        (lambda m, X, y: movie.Movie(MLP(200, [200]), X, y), ValueError, "at most 20000"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(make, error, match):
    X, y, _, _ = _moons(seed=5)
    with pytest.raises(error, match=match):
        make(MLP(2, [2, 1], seed=0), X, y)


def test_a_movie_refuses_to_record_another_model():
    X, y, _, _ = _moons(seed=6)
    rec = movie.Movie(MLP(2, [2, 1], seed=0), X, y, grid=4)
    with pytest.raises(ValueError, match="not another"):
        nn.fit(MLP(2, [2, 1], seed=1), X, y, epochs=1, progress=False, callback=rec)


def test_a_diverged_model_still_makes_a_page_with_dashes_for_nan():
    X, y, X_test, y_test = _moons(seed=7)
    model = MLP(2, [3, 1], seed=0)
    rec = movie.Movie(model, X, y, X_test, y_test, grid=4)
    model.layers[0].neurons[0].w[0].data = float("nan")
    model.layers[1].neurons[0].b.grad = float("inf")
    rec(model, {"loss": [float("nan")], "accuracy": [0.5], "test_loss": [float("inf")], "test_accuracy": [0.5]})
    data = _page_data(rec.html())
    last = data["frames"][-1]
    assert last["w"][0] is None and last["g"][-1] is None and last["loss"] is None and last["test_loss"] is None
    assert data["curves"]["loss"][-1] is None


# ---- one colour scheme; data that cannot end its script ------------------------------------------------
def _hue(colour: str) -> float:
    import colorsys

    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 360 * colorsys.rgb_to_hsv(r, g, b)[0]


def test_a_weights_sign_never_wears_a_colour_a_class_of_a_two_or_three_class_dataset_wears():
    classes = [_hue(c) for c in nn.plots.CLASS_COLOURS[:3]]  # blue, red, green: moons, circles, xor, spiral
    for sign in ("positive", "negative"):
        hue = _hue(movie.SIGN_COLOURS[sign])
        assert min(min(abs(hue - c), 360 - abs(hue - c)) for c in classes) > 30, sign
    assert movie.SIGN_COLOURS["positive"] != movie.SIGN_COLOURS["negative"]


def test_the_page_names_the_sign_colours_it_draws_with(trained):
    page = trained[1].html()
    colours = json.loads(re.search(r'data-colours="([^"]*)"', page)[1].replace("&quot;", '"'))
    assert {colours["positive"], colours["negative"]} == {
        movie.SIGN_COLOURS["positive"],
        movie.SIGN_COLOURS["negative"],
    }
    assert f"background:{movie.SIGN_COLOURS['positive']}" in page and "orange +" in page and "purple" in page
    assert "blue +" not in page


HOSTILE = "soft<!--<script></script>"  # an activation a user registered under an odd name


@pytest.fixture
def hostile_activation():
    from autograd import Value

    nn.activations.register(HOSTILE, Value.tanh)
    yield HOSTILE
    nn.activations._REGISTRY.pop(HOSTILE, None)


def test_every_lt_in_the_embedded_data_is_escaped_so_a_name_cannot_end_or_bend_the_script(hostile_activation):
    X, y, _, _ = _moons(30)
    model = MLP(2, [3, 1], activation=hostile_activation, seed=0)
    rec = movie.Movie(model, X, y, loss="hinge", grid=4)
    nn.fit(model, X, y, loss="hinge", epochs=2, progress=False, callback=rec)
    page = rec.html()
    block = re.search(r'<script type="application/json" id="movie-data">(.*?)</script>', page, re.S)[1]
    assert "<" not in block and ">" not in block and "\\u003c!--\\u003cscript" in block
    assert _page_data(page)["activations"][0] == hostile_activation
