"""Published figures the reference models are compared with.

Fashion-MNIST rows: the benchmark table of the Fashion-MNIST README (Zalando
Research), test accuracy on the full test set. MNIST rows: the course's
lecture notes (UMass CMPSCI 697L, 2015).
"""

FASHION = {
    "01_logistic_regression": [("scikit-learn LogisticRegression", 0.842)],
    "03_mlp": [("scikit-learn MLPClassifier", 0.871), ("MLP 256-128-100", 0.8833)],
    "04_cnn": [("2 Conv+pooling", 0.876), ("2 Conv+pooling (best row)", 0.916)],
    "05_regularization": [("3 Conv+pooling+2 FC+dropout", 0.926)],
    "06_lstm": [("GRU+SVM", 0.888), ("GRU+SVM with dropout", 0.897)],
}

MNIST = {
    "01_logistic_regression": [("lecture: logistic regression, 7.49% test error (Theano, 74 epochs)", 1 - 0.0749)],
    "03_mlp": [("lecture: MLP, 1.65% test error after 45 minutes", 1 - 0.0165)],
    "04_cnn": [("lecture: LeNet in Caffe, 99.04% in 34 s on a GPU", 0.9904)],
}
