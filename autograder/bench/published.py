"""Published figures the reference models are compared with.

Fashion-MNIST rows: the benchmark table of the Fashion-MNIST README (Zalando
Research), test accuracy on the full test set. MNIST rows: the course's
lecture notes (UMass CMPSCI 697L, 2015).

Each row is ``(label, accuracy, model)``: ``model`` is a fragment of the name
the notebook's ``check_accuracy`` gives the model compared with the row.
"""

FASHION = {
    "01_logistic_regression": [("scikit-learn LogisticRegression", 0.842, "test accuracy on all")],
    "03_mlp": [("scikit-learn MLPClassifier", 0.871, "final MLP"), ("MLP 256-128-100", 0.8833, "final MLP")],
    "04_cnn": [("2 Conv+pooling", 0.876, "small CNN"), ("2 Conv+pooling (best row)", 0.916, "small CNN")],
    "05_regularization": [("3 Conv+pooling+2 FC+dropout", 0.926, "regularized CNN")],
    "06_lstm": [("GRU+SVM", 0.888, "test accuracy"), ("GRU+SVM with dropout", 0.897, "test accuracy")],
}

MNIST = {
    "01_logistic_regression": [("lecture: logistic regression, 7.49% test error (Theano, 74 epochs)", 1 - 0.0749, "test accuracy on all")],
    "03_mlp": [("lecture: MLP, 1.65% test error after 45 minutes", 1 - 0.0165, "final MLP")],
    "04_cnn": [("lecture: LeNet in Caffe, 99.04% in 34 s on a GPU", 0.9904, "LeNet")],
}
