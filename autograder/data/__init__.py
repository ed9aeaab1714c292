"""Data for the course: verified real data sets and seeded synthetic ones."""

from .loaders import DataNotFoundError, class_names, load_fashion_mnist, load_mnist, load_words, locate
from .synthetic import make_adding_problem, make_blobs, make_spirals, make_xor

__all__ = [
    "DataNotFoundError",
    "class_names",
    "load_fashion_mnist",
    "load_mnist",
    "load_words",
    "locate",
    "make_adding_problem",
    "make_blobs",
    "make_spirals",
    "make_xor",
]
