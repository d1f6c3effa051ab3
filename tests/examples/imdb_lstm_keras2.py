"""A Keras 2.x-era IMDB sentiment script, as users of 2.2.4 wrote them (the API of keras 2.2.4's
examples/imdb_lstm.py: Sequential, Embedding, LSTM with dropout and recurrent_dropout, Dense, the
'adam' shortcut, metrics=['accuracy'], fit with validation_data, evaluate). Written for this project,
not copied; sized small so that it trains in seconds on the NumPy reference: tests/test_keras2_examples.py
runs it unchanged with `keras` bound to the reference namespace of 2.2.4 and `keras.datasets.imdb` to a
small synthetic review set (integer sequences already cut to `maxlen`, as pad_sequences would leave them).
"""
from __future__ import print_function

from keras.datasets import imdb
from keras.layers import Dense, Embedding
from keras.layers import LSTM
from keras.models import Sequential

max_features = 50
maxlen = 12
batch_size = 32
epochs = 4

print('Loading data...')
(x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features, maxlen=maxlen)
print(len(x_train), 'train sequences')
print(len(x_test), 'test sequences')
print('x_train shape:', x_train.shape)

print('Build model...')
model = Sequential()
model.add(Embedding(max_features, 16))
model.add(LSTM(16, dropout=0.2, recurrent_dropout=0.2))
model.add(Dense(1, activation='sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='adam',
              metrics=['accuracy'])

print('Train...')
history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, batch_size=batch_size)
print('Test score:', score[0])
print('Test accuracy:', score[1])
