"""nn.plots: the data behind each picture. The boundary's shading is the model's own readout on
a fine grid (not a two-level class grid), the 0.5 line is drawn, train and test points have
their own markers, axes and legend are labelled; several classes are coloured by the argmax
alone, so no third class shows between two; the loss plot has train and test curves. The
pictures of a classifier on images show the numbers they claim (read back from the figure)."""

import sys

import pytest

import nn
from autograd import no_grad
from nn import MLP, datasets, plots
from nn.train import readout, track

matplotlib = pytest.importorskip("matplotlib", reason="the [plot] extra is not installed")
np = pytest.importorskip("numpy")


def _split(make, n=80, **kwargs):
    X, y = make(n, seed=0, **kwargs)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, seed=0)
    X_train, mean, std = datasets.normalize(X_train)
    X_test, _, _ = datasets.normalize(X_test, mean, std)
    return X_train, y_train, X_test, y_test


@pytest.fixture(scope="module")
def binary():
    X, y, X_test, y_test = _split(datasets.moons, noise=0.1)
    model = MLP(2, [8, 1], seed=0)
    nn.fit(model, X, y, loss="bce_with_logits", epochs=15, progress=False)
    fig = plots._boundary_figure(model, X, y, False, 120, X_test, y_test, "bce_with_logits")
    yield model, fig, (X, y, X_test, y_test)
    matplotlib.pyplot.close(fig)


def test_grid_readout_is_the_models_readout_at_each_point_numpy_or_not():
    model = MLP(2, [4, 3, 1], activation="tanh", seed=1)
    gx, gy = [-1.0, 0.0, 0.5], [-2.0, 1.5]
    classes, shades = plots.grid_readout(model, gx, gy, "bce_with_logits")
    with no_grad():
        for j, b in enumerate(gy):
            for i, a in enumerate(gx):
                cls, shade = readout("bce_with_logits", model([a, b]))
                assert classes[j][i] == cls and shades[j][i] == pytest.approx(shade, rel=1e-12)


def test_binary_boundary_is_smooth_probability_shading_with_the_half_line(binary):
    model, fig, _ = binary
    ax = fig.axes[0]
    filled = [c for c in ax.collections if getattr(c, "filled", False)]
    lines = [c for c in ax.collections if hasattr(c, "levels") and not getattr(c, "filled", True)]
    assert filled == []  # no filled contours: no bands (issue 21.7)
    (image,) = ax.get_images()  # the readout on the fine grid itself, interpolated smoothly
    assert image.get_array().shape == (120, 120) and image.get_interpolation() == "bilinear"
    assert image.colorbar is not None and image.get_clim() == (0, 1)
    assert len(np.unique(np.round(image.get_array(), 6))) > 100  # shades, not ~20 bands
    assert [list(c.levels) for c in lines] == [[0.5]]
    colourbar = fig.axes[1]
    assert "P(class 1)" in colourbar.get_ylabel()


def test_boundary_axes_and_legend_are_labelled_and_test_points_have_their_own_marker(binary):
    _, fig, (X, y, X_test, y_test) = binary
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x0 (normalised)" and ax.get_ylabel() == "x1 (normalised)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["class 0", "class 1", "train point", "test point", "decision boundary"]
    scatters = [
        c for c in ax.collections if c.get_offsets().shape[0] in (len(X), len(X_test)) and not hasattr(c, "levels")
    ]
    sizes = sorted(c.get_offsets().shape[0] for c in scatters)
    assert sizes == sorted([len(X), len(X_test)])
    train, test = sorted(scatters, key=lambda c: c.get_offsets().shape[0] != len(X))
    assert len(train.get_paths()[0].vertices) != len(test.get_paths()[0].vertices)  # a circle, a triangle
    assert train.get_facecolors().shape[0] == len(X) and (test.get_facecolors()[:, :3] == 1).all()  # test: hollow


def test_hinge_shading_reads_the_score_clipped_to_one():
    X, y, _, _ = _split(datasets.moons, noise=0.1)
    model = MLP(2, [4, 1], seed=0)
    fig = plots._boundary_figure(model, X, y, False, 40, None, None, "hinge")
    try:
        assert "hinge score" in fig.axes[1].get_ylabel()
        assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["−1", "−0.5", "0", "0.5", "1"]
        assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-2:] == ["train point", "decision boundary"]
    finally:
        matplotlib.pyplot.close(fig)


def test_multiclass_shading_takes_each_cells_argmax_colour_so_no_false_band_appears():
    X, y, X_test, y_test = _split(datasets.spiral, n=90, classes=3)
    model = MLP(2, [12, 3], seed=0)
    nn.fit(model, X, y, epochs=10, progress=False)
    steps = 50
    fig = plots._boundary_figure(model, X, y, True, steps, X_test, y_test, "cross_entropy")
    try:
        (image,) = fig.axes[0].get_images()
        rgba = np.asarray(image.get_array())
        gx, gy = plots._lattice(X + X_test, steps)
        classes, shades = plots.grid_readout(model, gx, gy, "cross_entropy")
        colours = np.array([plots._rgb(c) for c in plots.CLASS_COLOURS[:3]])
        for j in range(steps):
            for i in range(steps):  # each cell is its argmax's colour, whatever its neighbours are
                assert np.allclose(rgba[j, i, :3], colours[classes[j][i]])
        seen = {c for row in classes for c in row}
        assert seen <= {0, 1, 2}
        alpha = rgba[..., 3]
        assert alpha.min() >= 0.1 and alpha.max() <= 0.75 + 1e-9  # confidence as strength
        assert "x0 (normalised)" == fig.axes[0].get_xlabel()
    finally:
        matplotlib.pyplot.close(fig)


def test_loss_plot_has_train_and_test_curves_on_labelled_axes():
    X, y, X_test, y_test = _split(datasets.moons, noise=0.1)
    model = MLP(2, [4, 1], seed=0)
    history = nn.fit(model, X, y, epochs=5, progress=False, callback=track(X_test, y_test))
    fig = plots._history_figure(history)
    try:
        loss_ax, acc_ax = fig.axes
        assert loss_ax.get_xlabel() == "epoch" and "loss" in loss_ax.get_ylabel()
        assert acc_ax.get_xlabel() == "epoch" and "accuracy" in acc_ax.get_ylabel()
        train, test = loss_ax.get_lines()
        assert list(train.get_ydata()) == history["loss"] and list(test.get_ydata()) == history["test_loss"]
        assert list(train.get_xdata()) == [1, 2, 3, 4, 5]
        assert [t.get_text().split(" ")[0] for t in loss_ax.get_legend().get_texts()] == ["train", "test"]
    finally:
        matplotlib.pyplot.close(fig)


def test_loss_plot_without_test_or_accuracy_draws_one_panel(tmp_path):
    path = plots.history({"loss": [1.0, 0.5], "accuracy": [None, None]}, tmp_path / "h.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
    fig = plots._history_figure({"loss": [1.0, 0.5], "accuracy": [None, None]})
    try:
        assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()) == 1
    finally:
        matplotlib.pyplot.close(fig)


def test_decision_boundary_refuses_points_without_two_inputs(tmp_path):
    with pytest.raises(ValueError, match="exactly two inputs"):
        plots.decision_boundary(MLP(3, [1]), [[0.0, 1.0, 2.0]], [0], False, tmp_path / "b.png")


@pytest.mark.parametrize("without", ["numpy", "numpy and floats"])
def test_grid_readout_without_numpy_gives_the_same_readout(monkeypatch, without):
    model = MLP(2, [5, 4, 3], activation="sigmoid", seed=2)
    gx, gy = [-1.0, 0.25, 2.0], [-0.5, 0.75]
    expected = plots.grid_readout(model, gx, gy, "cross_entropy")
    monkeypatch.setattr(plots, "_outputs_numpy", lambda model, cells: None)
    if without == "numpy and floats":
        monkeypatch.setattr(plots, "_outputs_floats", lambda model, cells: None)
    classes, shades = plots.grid_readout(model, gx, gy, "cross_entropy")
    assert classes == expected[0]
    assert sum(shades, []) == pytest.approx(sum(expected[1], []), rel=1e-12)


# ---- pictures of a classifier on images (figures returned, not written) -------------------------
def test_confusion_matrix_counts_true_class_against_predicted_class():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    fig = plots.confusion_matrix(y_true, y_pred, title="toy")
    counts = fig.axes[0].images[0].get_array().tolist()
    assert counts == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert fig.axes[0].get_title() == "toy: 4 of 6 right (66.7%)"


def test_confusion_matrix_keeps_every_listed_class_even_if_never_seen():
    fig = plots.confusion_matrix([1, 1], [1, 1], classes=range(4))
    assert fig.axes[0].images[0].get_array().tolist() == [
        [0] * 4,
        [0, 2, 0, 0],
        [0] * 4,
        [0] * 4,
    ]


def test_misclassified_draws_only_the_wrong_ones_titled_true_to_predicted():
    X = [[float(i)] * 4 for i in range(5)]
    fig = plots.misclassified(X, [0, 1, 2, 3, 4], [0, 7, 2, 9, 4], shape=(2, 2))
    assert [ax.get_title() for ax in fig.axes] == ["1→7", "3→9"]
    assert fig.axes[1].images[0].get_array().tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert fig._suptitle.get_text() == "misclassified: 2 of 5"


def test_misclassified_with_nothing_wrong_says_none_and_the_limit_is_stated():
    assert plots.misclassified([[0.0]], [1], [1], shape=(1, 1))._suptitle.get_text() == "misclassified: 0 of 1"
    fig = plots.misclassified([[0.0]] * 5, [0] * 5, [1] * 5, shape=(1, 1), limit=2)
    assert len(fig.axes) == 2 and fig._suptitle.get_text().endswith("5 of 5, first 2 shown")


def test_weight_images_lay_each_first_layer_neuron_out_as_an_image():
    model = nn.MLP(6, [3, 2], seed=0)
    fig = plots.weight_images(model, shape=(2, 3))
    assert len(fig.axes) == 3 + 1  # three neurons and the colour bar
    for ax, neuron in zip(fig.axes, model.layers[0].neurons):
        w = [p.data for p in neuron.w]
        assert ax.images[0].get_array().tolist() == [w[:3], w[3:]]


@pytest.mark.parametrize(
    "draw, message",
    [
        (
            lambda: plots.confusion_matrix([0, 1], [0]),
            "2 true labels but 1 predictions",
        ),
        (
            lambda: plots.confusion_matrix([0, 5], [0, 1], classes=[0, 1]),
            r"labels \[5\] are not among classes",
        ),
        (
            lambda: plots.misclassified([[0.0] * 3], [0], [1], shape=(2, 2)),
            "3 values, not the 2x2 = 4",
        ),
        (
            lambda: plots.weight_images(nn.MLP(5, [2], seed=0), shape=(2, 2)),
            "5 inputs, which do not make a 2x2",
        ),
        (
            lambda: plots.misclassified([[0.0]], [0], [1], shape=(0, 1)),
            "shape must be positive",
        ),
    ],
)
def test_pictures_refuse_what_does_not_fit_in_one_line(draw, message):
    with pytest.raises(ValueError, match=message) as info:
        draw()
    assert "\n" not in str(info.value)


def test_save_writes_a_figure_as_png(tmp_path):
    path = plots.save(plots.confusion_matrix([0, 1], [0, 1]), tmp_path / "confusion.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_a_picture_fails_in_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"^this plot needs matplotlib: pip install 'chainrule\[plot\]'$"):
        plots.confusion_matrix([0], [0])


# ---- issue 21.7: late epochs readable, a colour scale for the weights ----------------------------------
def test_the_loss_axis_is_logarithmic_so_late_epochs_stay_readable():
    hist = {"loss": [2.0, 0.5, 0.1, 0.02, 0.011, 0.01], "accuracy": [0.5, 0.8, 0.9, 0.95, 0.97, 0.98]}
    hist["test_loss"] = [2.1, 0.6, 0.2, 0.05, 0.04, 0.03]
    fig = plots._history_figure(hist)
    try:
        loss_ax, acc_ax = fig.axes
        assert loss_ax.get_yscale() == "log" and "log scale" in loss_ax.get_ylabel()
        assert acc_ax.get_yscale() == "linear"
        low, high = loss_ax.get_ylim()
        assert 0 < low <= 0.01 and high >= 2.1
    finally:
        matplotlib.pyplot.close(fig)


def test_a_loss_that_reaches_zero_gets_a_symlog_axis_and_log_false_a_linear_one():
    hist = {"loss": [1.0, 0.1, 0.0], "accuracy": [0.5, 0.9, 1.0]}
    fig = plots._history_figure(hist)
    linear = plots._history_figure(hist, log=False)
    try:
        assert fig.axes[0].get_yscale() == "symlog"
        assert linear.axes[0].get_yscale() == "linear" and linear.axes[0].get_ylim()[0] == 0
    finally:
        matplotlib.pyplot.close(fig)
        matplotlib.pyplot.close(linear)


def test_first_layer_weights_have_a_colour_scale_centred_on_zero():
    model = nn.MLP(4, [5, 2], seed=3)
    fig = plots.weight_images(model, shape=(2, 2))
    images = [ax.images[0] for ax in fig.axes[:5]]
    scale = max(abs(p.data) for n in model.layers[0].neurons for p in n.w)
    assert {im.get_clim() for im in images} == {(-scale, scale)}
    (bar_ax,) = [ax for ax in fig.axes if ax not in [im.axes for im in images]]
    assert images[-1].colorbar is not None and images[-1].colorbar.ax is bar_ax
    assert "weight" in bar_ax.get_ylabel()
