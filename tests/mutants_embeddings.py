"""Mutants of the embeddings layers (registered through mutants.mutant)."""
from __future__ import annotations

from mutants import ALL, KERAS2, _override, mutant  # noqa: F401

from keras_conformance.reference.autodiff import ops


@mutant("numerics", ALL, "layers.Embedding with mask_zero=True produces no mask: the padding steps (index 0) "
        "count in the loss of a model whose output it is", items=("layers.Embedding",))
def embedding_mask_ignored(K, v):
    def compute_mask(self, inputs, mask=None):
        return None
    _override(K, "Embedding", compute_mask=compute_mask)


@mutant("numerics", ALL, "layers.Embedding reads row index + 1 (a 1-based lookup, wrapping at input_dim): "
        "same shapes, the neighbouring rows", items=("layers.Embedding",))
def embedding_lookup_off_by_one(K, v):
    Base = K.get("layers.Embedding")

    def _indices(self, inputs):
        return (Base._indices(self, inputs) + 1) % self.input_dim
    _override(K, "Embedding", _indices=_indices)


@mutant("shapes", ALL, "layers.Embedding stores its matrix transposed, (output_dim, input_dim), and looks up "
        "columns: the outputs agree, the weight's shape (and so any file of real Keras) does not",
        items=("layers.Embedding",))
def embedding_transposed_matrix(K, v):
    def build(self, input_shape=None):
        if getattr(self, "embeddings", None) is not None:
            return
        self.embeddings = self.add_weight(name="embeddings", shape=(self.output_dim, self.input_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        return ops.getitem(ops.transpose(self.embeddings), self._indices(inputs))
    _override(K, "Embedding", build=build, call=call)
