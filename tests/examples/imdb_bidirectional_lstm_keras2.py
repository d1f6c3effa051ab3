"""A Keras 2.x-era bidirectional LSTM script, as users of 2.2.4 wrote them (the API of keras 2.2.4's
examples/imdb_bidirectional_lstm.py: Sequential, Embedding with input_length, Bidirectional(LSTM),
Dropout, Dense, compile with 'adam', fit with validation_data). Written for this project, not copied;
run by tests/test_keras2_examples.py with `keras` bound to the reference namespace of 2.2.4 and
`keras.datasets.imdb` to small synthetic integer sequences.
"""
from __future__ import print_function

import numpy as np

from keras.datasets import imdb
from keras.layers import Bidirectional, Dense, Dropout, Embedding, LSTM
from keras.models import Sequential

max_features = 50
maxlen = 12
batch_size = 32

(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features, maxlen=maxlen)
y_train = np.array(y_train)
y_test = np.array(y_test)

model = Sequential()
model.add(Embedding(max_features, 16, input_length=maxlen))
model.add(Bidirectional(LSTM(8)))
model.add(Dropout(0.5))
model.add(Dense(1, activation='sigmoid'))

model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])

print('Train...')
history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=4,
                    validation_data=[x_test, y_test])
