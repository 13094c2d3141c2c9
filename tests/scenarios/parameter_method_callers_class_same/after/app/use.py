def total(shape):
    return shape.area() * 2
