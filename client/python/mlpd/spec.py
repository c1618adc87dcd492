"""How an MLP is described to mlpd: the choices as Python enums, the model as a dataclass.

Every choice takes its enum member or the member's string ("relu", "mse", "adam"), so code
written against this module does not depend on how the wire spells the values:

    spec = mlpd.ModelSpec(input_size=784, layers=[(256, "relu"), (10, "identity")],
                          loss="cross_entropy", optimizer="adam", learning_rate=1e-3)

Hyperparameters left None take the server's default (reported back in SessionInfo.spec).
"""
import dataclasses
import enum
from typing import List, Optional, Sequence, Tuple, Union


class _Choice(str, enum.Enum):
    """A named choice that also accepts its value in any letter case."""

    @classmethod
    def _missing_(cls, value):
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        return None

    def __str__(self):
        return self.value


class Activation(_Choice):
    """Activation is applied after each layer's affine map (the last layer's included)."""

    IDENTITY = "identity"
    RELU = "relu"
    TANH = "tanh"
    SIGMOID = "sigmoid"


class Loss(_Choice):
    """Loss names the training loss; cross_entropy includes the softmax."""

    MSE = "mse"
    CROSS_ENTROPY = "cross_entropy"
    LOGISTIC = "logistic"


class Reduction(_Choice):
    """Reduction: mean (the server's default) or sum over the batch's elements."""

    MEAN = "mean"
    SUM = "sum"


class Optimizer(_Choice):
    """Optimizer names the update rule."""

    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"


class Init(_Choice):
    """Init names how weights are drawn (normal and uniform need init_scale)."""

    NORMAL = "normal"
    UNIFORM = "uniform"
    XAVIER = "xavier"
    KAIMING = "kaiming"


def choice(kind, value, what):
    """`value` (a member of `kind` or its string) as a member; ValueError naming `what`."""
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{what} is {value!r}, expected one of: {allowed}") from None


@dataclasses.dataclass(frozen=True)
class Layer:
    """Layer is one fully connected layer: `units` outputs, then `activation`."""

    units: int
    activation: Activation

    def __post_init__(self):
        object.__setattr__(self, "activation", choice(Activation, self.activation, "activation"))


LayerLike = Union[Layer, Tuple[int, Union[Activation, str]]]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """ModelSpec is a whole MLP: its shape, loss, optimizer and initialisation."""

    input_size: int
    layers: Sequence[LayerLike]
    loss: Union[Loss, str]
    optimizer: Union[Optimizer, str]
    learning_rate: float
    reduction: Optional[Union[Reduction, str]] = None
    momentum: Optional[float] = None
    beta1: Optional[float] = None
    beta2: Optional[float] = None
    epsilon: Optional[float] = None
    init: Union[Init, str] = Init.XAVIER
    init_scale: Optional[float] = None
    seed: int = 0

    def __post_init__(self):
        layers: List[Layer] = [
            layer if isinstance(layer, Layer) else Layer(*layer) for layer in self.layers]
        object.__setattr__(self, "layers", tuple(layers))
        object.__setattr__(self, "loss", choice(Loss, self.loss, "loss"))
        object.__setattr__(self, "optimizer", choice(Optimizer, self.optimizer, "optimizer"))
        if self.reduction is not None:
            object.__setattr__(self, "reduction", choice(Reduction, self.reduction, "reduction"))
        object.__setattr__(self, "init", choice(Init, self.init, "init"))
